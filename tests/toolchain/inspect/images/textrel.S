/* Code with an absolute 64-bit address in .text: linked with -z notext, it
 * needs a text relocation (DT_TEXTREL). */
  .text
  .globl counter_address
  .type counter_address,@function
counter_address:
  movabsq $counter, %rax
  ret
  .size counter_address, . - counter_address

  .data
  .globl counter
counter:
  .long 42

  .section .note.GNU-stack,"",@progbits
