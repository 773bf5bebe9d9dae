#include "note_source.h"

#include <cstdio>

#include "threadprocs/abi.h"

namespace tp::link {

uint64_t slot_image_address(uint32_t slot) {
  return TP_DEFAULT_ARENA_BASE + uint64_t{slot} * TP_DEFAULT_SLOT_SIZE + (2ull << 20);
}

std::string note_assembly(const NoteSpec& spec) {
  // The name goes in as bytes (.byte), so no assembler quoting is involved.
  std::string name_bytes;
  for (size_t i = 0; i < TP_NOTE_NAME_MAX; ++i) {
    unsigned char c = i < spec.name.size() ? static_cast<unsigned char>(spec.name[i]) : 0;
    name_bytes += (i % 16 == 0 ? "\n  .byte " : ", ") + std::to_string(c);
  }
  char body[2048];
  std::snprintf(body, sizeof body,
                "/* Threadprocs note, written by tp-link (docs/image-format.md). */\n"
                "  .section .note.threadprocs,\"a\",@note\n"
                "  .p2align 2\n"
                "  .long 5              /* namesz: \"TPRC\\0\" */\n"
                "  .long %u             /* descsz */\n"
                "  .long %#x       /* type */\n"
                "  .asciz \"%s\"\n"
                "  .p2align 2\n"
                ".Ltp_desc:\n"
                "  .long %u             /* abi_version */\n"
                "  .long %#x            /* flags */\n"
                "  .quad %llu           /* stack_size */\n"
                "  .quad %llu           /* min_slot_size */\n"
                "  .long %d             /* fixed_slot */\n"
                "  .long 0              /* reserved */\n"
                "  .quad __tp_exports_begin - .Ltp_desc\n"
                "  .quad __tp_exports_end - .Ltp_desc\n"
                "  /* name */",
                TP_NOTE_DESC_SIZE, TP_NOTE_TYPE, TP_NOTE_NAME, TP_ABI_VERSION, spec.flags,
                static_cast<unsigned long long>(spec.stack_size), static_cast<unsigned long long>(spec.min_slot_size),
                spec.fixed_slot);
  return std::string(body) + name_bytes +
         "\n  .p2align 2\n"
         "  .section .note.GNU-stack,\"\",@progbits\n";
}

}  // namespace tp::link
