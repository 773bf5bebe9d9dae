#include "verify_image.h"

#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"
#include "threadprocs/abi.h"

namespace tp::link {
namespace {

llvm::Error problem(const std::string& path, const std::string& why) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), path + ": " + why);
}

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

llvm::Error verify_image(const std::string& path, const Expectations& want) {
  auto owning = llvm::object::ObjectFile::createObjectFile(path);
  if (!owning) return problem(path, "cannot read the linked image: " + llvm::toString(owning.takeError()));
  auto* elf = llvm::dyn_cast<llvm::object::ELF64LEObjectFile>(owning->getBinary());
  if (!elf) return problem(path, "the linker did not produce a 64-bit little-endian ELF file");
  const auto& file = elf->getELFFile();
  const auto& eh = file.getHeader();
  if (eh.e_machine != llvm::ELF::EM_X86_64) return problem(path, "not an x86-64 image (e_machine " + std::to_string(eh.e_machine) + ")");
  if (eh.e_type != llvm::ELF::ET_DYN)
    return problem(path, "not position-independent (ELF type " + std::to_string(eh.e_type) +
                             ", want ET_DYN): something in the link turned PIE off");
  auto phdrs = file.program_headers();
  if (!phdrs) return problem(path, "cannot read its program headers: " + llvm::toString(phdrs.takeError()));

  bool has_interp = false, textrel = false;
  int notes = 0;
  std::optional<uint64_t> lowest_load;
  for (const auto& ph : *phdrs) {
    if (ph.p_type == llvm::ELF::PT_INTERP) has_interp = true;
    if (ph.p_type == llvm::ELF::PT_LOAD && (!lowest_load || ph.p_vaddr < *lowest_load)) lowest_load = uint64_t(ph.p_vaddr);
    if (ph.p_type != llvm::ELF::PT_NOTE) continue;
    llvm::Error err = llvm::Error::success();
    for (const auto& note : file.notes(ph, err)) {
      if (note.getName() != TP_NOTE_NAME || note.getType() != TP_NOTE_TYPE) continue;
      ++notes;
      auto desc = note.getDesc();
      if (const char* why = tp_note_desc_problem(desc.data(), desc.size()))
        return problem(path, std::string("its Threadprocs note is malformed: ") + why);
    }
    if (err) return problem(path, "cannot read its notes: " + llvm::toString(std::move(err)));
  }
  if (notes == 0)
    return problem(path, "no Threadprocs note in PT_NOTE: was the note object dropped from the link?");
  if (notes > 1) return problem(path, std::to_string(notes) + " Threadprocs notes (two note objects were linked in)");

  auto dynamic = file.dynamicEntries();
  if (dynamic) {
    for (const auto& d : *dynamic) {
      if (d.d_tag == llvm::ELF::DT_TEXTREL) textrel = true;
      if (d.d_tag == llvm::ELF::DT_FLAGS && (d.getVal() & llvm::ELF::DF_TEXTREL)) textrel = true;
    }
  } else {
    llvm::consumeError(dynamic.takeError());
  }
  if (textrel)
    return problem(path, "it has text relocations (DT_TEXTREL): an object was compiled without -fPIC/-fPIE");
  if (want.static_pie && has_interp) return problem(path, "a static-PIE link produced an image with an interpreter");
  if (!want.static_pie && !has_interp)
    return problem(path, "no interpreter (PT_INTERP) in a dynamically linked image");
  if (want.link_address && lowest_load != want.link_address)
    return problem(path, "linked at " + hex(lowest_load.value_or(0)) + ", not at " + hex(*want.link_address) +
                             " as --slot asked");
  return llvm::Error::success();
}

}  // namespace tp::link
