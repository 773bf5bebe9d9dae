// The note tp-link generates: assembled by the machine's compiler driver and
// read back with libObject, it is exactly the descriptor abi.h describes.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"
#include "note_source.h"
#include "threadprocs/abi.h"

namespace tp::link {
namespace {

// Assembles `source` and returns the descriptor of its one TPRC note.
std::vector<uint8_t> assemble_and_read(const std::string& source) {
  char dir[] = "/tmp/tp-note-test.XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  const std::string src = std::string(dir) + "/n.S", obj = std::string(dir) + "/n.o";
  std::ofstream(src) << source;
  const std::string cmd = "cc -c -x assembler-with-cpp " + src + " -o " + obj;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<uint8_t> desc;
  auto file = llvm::object::ObjectFile::createObjectFile(obj);
  if (!file) {
    ADD_FAILURE() << llvm::toString(file.takeError());
    return desc;
  }
  auto* elf = llvm::dyn_cast<llvm::object::ELF64LEObjectFile>(file->getBinary());
  auto sections = elf->getELFFile().sections();
  for (const auto& sec : *sections) {
    if (sec.sh_type != llvm::ELF::SHT_NOTE) continue;
    llvm::Error err = llvm::Error::success();
    for (const auto& note : elf->getELFFile().notes(sec, err))
      if (note.getName() == TP_NOTE_NAME && note.getType() == TP_NOTE_TYPE) {
        auto d = note.getDesc();
        desc.assign(d.begin(), d.end());
      }
    EXPECT_FALSE(bool(err));
  }
  std::remove(src.c_str());
  std::remove(obj.c_str());
  rmdir(dir);
  return desc;
}

TEST(NoteSource, AssemblesToTheAbiDescriptor) {
  NoteSpec spec;
  spec.name = "worker-1";
  spec.stack_size = 1 << 20;
  spec.min_slot_size = 1ull << 36;
  spec.fixed_slot = 5;
  spec.flags = TP_NOTE_FLAG_PRIVATE_HEAP;
  std::vector<uint8_t> desc = assemble_and_read(note_assembly(spec));
  ASSERT_EQ(desc.size(), TP_NOTE_DESC_SIZE);
  EXPECT_EQ(tp_note_desc_problem(desc.data(), desc.size()), nullptr);
  tp_note_desc d;
  std::memcpy(&d, desc.data(), sizeof d);
  EXPECT_EQ(d.abi_version, TP_ABI_VERSION);
  EXPECT_EQ(d.flags, TP_NOTE_FLAG_PRIVATE_HEAP);
  EXPECT_EQ(d.stack_size, 1u << 20);
  EXPECT_EQ(d.min_slot_size, 1ull << 36);
  EXPECT_EQ(d.fixed_slot, 5);
  EXPECT_STREQ(d.name, "worker-1");
}

TEST(NoteSource, DefaultsAndEmptyName) {
  std::vector<uint8_t> desc = assemble_and_read(note_assembly({}));
  ASSERT_EQ(desc.size(), TP_NOTE_DESC_SIZE);
  tp_note_desc d;
  std::memcpy(&d, desc.data(), sizeof d);
  EXPECT_EQ(d.fixed_slot, TP_NOTE_ANY_SLOT);
  EXPECT_EQ(d.stack_size, 0u);
  EXPECT_EQ(d.name[0], '\0');
}

TEST(NoteSource, SlotImageAddress) {
  EXPECT_EQ(slot_image_address(0), TP_DEFAULT_ARENA_BASE + (2u << 20));
  EXPECT_EQ(slot_image_address(3), TP_DEFAULT_ARENA_BASE + 3 * TP_DEFAULT_SLOT_SIZE + (2u << 20));
}

}  // namespace
}  // namespace tp::link
