/* Test program of the runner's i386 support (tools/cpu-run/test-i386.sh): a static i386 ELF
 * without libc that exercises compatibility-mode code (CALL/RET and ENTER/LEAVE frames,
 * PUSHA/POPA, INC/DEC short forms, REPNE SCASB, DIV, 16-bit addressing) and the int $0x80
 * calls write, brk, mmap2, munmap and exit. It prints its first argument, fib(20), and exits 42. */
	.code32
	.text
	.globl _start
_start:
	movl 8(%esp), %edi          /* argv[1] */
	call puts
	pushl $20
	call fib
	addl $4, %esp
	call putnum                 /* fib(20) = 6765 */
	/* brk: grow by one page, store and load through it */
	movl $45, %eax
	xorl %ebx, %ebx
	int $0x80
	movl %eax, %esi
	leal 4096(%esi), %ebx
	movl $45, %eax
	int $0x80
	movl $1234, 4092(%esi)
	movl 4092(%esi), %eax
	call putnum
	/* mmap2 anonymous page, 16-bit addressing through it is not possible; use 32-bit */
	movl $192, %eax
	xorl %ebx, %ebx
	movl $4096, %ecx
	movl $3, %edx               /* PROT_READ|PROT_WRITE */
	movl $0x22, %esi            /* MAP_PRIVATE|MAP_ANONYMOUS */
	movl $-1, %edi
	xorl %ebp, %ebp
	int $0x80
	movl %eax, %ebx
	movl $77, 100(%ebx)
	movl 100(%ebx), %eax
	pusha
	xorl %eax, %eax
	popa
	call putnum                 /* 77 */
	movl $91, %eax
	movl $4096, %ecx
	int $0x80
	/* INC/DEC short forms and 16-bit address wrap: lea (bx+si) wraps at 64 KiB */
	movl $0xfff0, %ebx
	movl $0x20, %esi
	addr16 leal (%bx,%si), %eax /* 0x10 */
	incl %eax
	incl %eax
	decl %eax
	call putnum                 /* 17 */
	movl $1, %eax
	movl $42, %ebx
	int $0x80

/* fib(n) with an ENTER/LEAVE frame, recursive */
fib:
	enter $4, $0
	movl 8(%ebp), %eax
	cmpl $2, %eax
	jb 1f
	decl %eax
	movl %eax, -4(%ebp)
	pushl %eax
	call fib
	addl $4, %esp
	pushl %eax
	movl -4(%ebp), %ecx
	decl %ecx
	pushl %ecx
	call fib
	addl $4, %esp
	popl %ecx
	addl %ecx, %eax
1:	leave
	ret

/* puts(edi): write the NUL-terminated string and a newline */
puts:
	pushl %edi
	xorl %eax, %eax
	movl $-1, %ecx
	repne scasb
	notl %ecx
	decl %ecx
	popl %edi
	movl %ecx, %edx
	movl %edi, %ecx
	movl $1, %ebx
	movl $4, %eax
	int $0x80
	jmp newline

/* putnum(eax): decimal and a newline */
putnum:
	pushl %ebp
	movl %esp, %ebp
	subl $16, %esp
	leal 15(%esp), %edi
	movl $10, %ecx
2:	xorl %edx, %edx
	divl %ecx
	addb $'0', %dl
	movb %dl, (%edi)
	decl %edi
	testl %eax, %eax
	jnz 2b
	leal 1(%edi), %ecx
	leal 16(%esp), %edx
	subl %ecx, %edx
	movl $1, %ebx
	movl $4, %eax
	int $0x80
	leave
newline:
	pushl $10
	movl %esp, %ecx
	movl $1, %edx
	movl $1, %ebx
	movl $4, %eax
	int $0x80
	addl $4, %esp
	ret
