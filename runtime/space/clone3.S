/* tp_clone3(args, size, plan): clone3 whose child never returns into C++.
 *
 * Parent: returns the syscall's result. Child: the kernel starts it on the
 * stack given in args, with every other register as the parent's;
 * it may not touch the parent's stack, TLS or any host memory, so it calls
 * the freestanding trampoline with the plan and never comes back. */
	.text
	.globl tp_clone3
	.type tp_clone3, @function
tp_clone3:
	.cfi_startproc
	endbr64
	mov %rdx, %r8            /* keep plan across the syscall (rdx is free) */
	mov $435, %eax           /* __NR_clone3 */
	syscall
	test %rax, %rax
	jz 1f
	ret                      /* parent, or -errno */
1:	/* child: rsp = the top of the stack in args, 16-byte aligned */
	.cfi_undefined rip       /* no frame above this for unwinders */
	xor %ebp, %ebp
	mov %r8, %rdi
	call tp_trampoline_main  /* does not return */
	ud2
	.cfi_endproc
	.size tp_clone3, .-tp_clone3

/* tp_enter_program(sp, entry): the last step. Clear every register as the
 * kernel does at execve, install the initial stack and jump. rdx = 0 tells
 * the program there is no rtld_fini to register. */
	.globl tp_enter_program
	.type tp_enter_program, @function
tp_enter_program:
	mov %rdi, %rsp
	mov %rsi, %r11
	xor %eax, %eax
	xor %ebx, %ebx
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	cld
	jmp *%r11
	.size tp_enter_program, .-tp_enter_program

	.section .note.GNU-stack,"",@progbits
