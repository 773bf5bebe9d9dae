/* crt0, entry shim: the image's entry point when tp-link links it with
 * -e __tp_start. It runs before glibc's _start (Scrt1.o / rcrt1.o), which it
 * then enters with the registers _start reads exactly as it got them:
 *   %rsp -> argc, argv..., NULL, envp..., NULL, auxv pairs (16-byte aligned)
 *   %rdx    the rtld fini function (dynamic programs) or 0 (static-PIE)
 * In a static-PIE nothing is relocated yet: only PC-relative references. */
	.text
	.globl	__tp_start
	.type	__tp_start, @function
	.hidden	tpi_crt0_record
__tp_start:
	.cfi_startproc
	.cfi_undefined rip	/* the outermost frame, as _start */
	endbr64
	xorl	%ebp, %ebp
	movq	%rdx, %r12	/* callee-saved across the call; _start does not read them */
	movq	%rsp, %r13
	movq	%rsp, %rdi	/* tpi_crt0_record(sp) */
	andq	$-16, %rsp	/* the ABI's alignment at the call */
	call	tpi_crt0_record
	movq	%r13, %rsp
	movq	%r12, %rdx
	jmp	_start
	.cfi_endproc
	.size	__tp_start, .-__tp_start

	.section .note.GNU-stack, "", @progbits
