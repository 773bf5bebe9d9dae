/* A hand-made TPRC note for tp-inspect's test images (tp-link generates the
 * real one). Preprocessed, so each image picks its fields:
 *   TP_TEST_ABI, TP_TEST_FLAGS, TP_TEST_STACK, TP_TEST_MIN_SLOT, TP_TEST_SLOT,
 *   TP_TEST_NAME (a string literal), TP_TEST_NAME_UNTERMINATED (32 bytes, no NUL). */
#ifndef TP_TEST_ABI
#define TP_TEST_ABI 1
#endif
#ifndef TP_TEST_FLAGS
#define TP_TEST_FLAGS 0
#endif
#ifndef TP_TEST_STACK
#define TP_TEST_STACK 0
#endif
#ifndef TP_TEST_MIN_SLOT
#define TP_TEST_MIN_SLOT 0
#endif
#ifndef TP_TEST_SLOT
#define TP_TEST_SLOT -1
#endif
#ifndef TP_TEST_NAME
#define TP_TEST_NAME "hello"
#endif

  .section .note.threadprocs,"a",@note
  .p2align 2
  .long 5                  /* namesz: "TPRC" and its NUL */
  .long 80                 /* descsz */
  .long 0x54500001         /* TP_NOTE_TYPE */
  .asciz "TPRC"
  .p2align 2
.Ldesc:
  .long TP_TEST_ABI        /* abi_version */
  .long TP_TEST_FLAGS      /* flags */
  .quad TP_TEST_STACK      /* stack_size */
  .quad TP_TEST_MIN_SLOT   /* min_slot_size */
  .long TP_TEST_SLOT       /* fixed_slot */
  .long 0                  /* reserved */
  .quad __tp_exports_begin - .Ldesc
  .quad __tp_exports_end - .Ldesc
.Lname:
#ifdef TP_TEST_NAME_UNTERMINATED
  .ascii "abcdefghijklmnopqrstuvwxyz012345"
#else
  .asciz TP_TEST_NAME
#endif
  .zero 32 - (. - .Lname)

  .section .note.GNU-stack,"",@progbits
