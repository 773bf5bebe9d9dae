/* A static-PIE that exits 0 at its first instruction: no libc, no page it
 * touches. Launching it measures the launch path alone (slot_aware_launch). */
  .globl _start
_start:
  xor %edi, %edi
  mov $231, %eax /* exit_group */
  syscall
  .section .note.GNU-stack,"",@progbits
