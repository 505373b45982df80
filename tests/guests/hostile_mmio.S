/* A guest that does MMIO of every size and kind (plain 1/2/4/8 bytes, SSE, locked, string,
 * page-straddling) to the hole below 4 GiB, the IOAPIC and LAPIC pages, an absent HPET and the
 * space beyond RAM; then INIT and SIPI storms at absent APIC IDs; then an INIT to itself, which
 * resets the machine: exit status 0, as a reboot. Run with --mem 64M --cpus 1. With
 * --cmdline unemulated it does one SSE MMIO load KVM cannot emulate instead: status 1 on KVM;
 * a CPU that emulates it prints the value read and resets (status 0).
 * Prints "hostile_mmio: ..." lines that kvm_hostile_devices checks. */
	.code64
	.globl _start

#define SCRATCH 0x2000000
#define LAPIC   0xfee00000

_start:
	cli
	lea msg_start(%rip), %rsi
	call puts

	/* SSE on: CR4.OSFXSR and OSXMMEXCPT; CR0.EM off, MP on. */
	mov %cr4, %rax
	or $((1 << 9) | (1 << 10)), %rax
	mov %rax, %cr4
	mov %cr0, %rax
	and $~(1 << 2), %rax
	or $(1 << 1), %rax
	mov %rax, %cr0

	/* --cmdline unemulated: an SSE load KVM's emulator does not know (movq m64, xmm), which
	 * hardy must report with the guest RIP rather than crash or hang on. */
	cmpb $'u', (0x20000)
	jne 1f
	lea msg_unemulated(%rip), %rsi
	call puts
	mov $0xd0000000, %rbx
	movq 8(%rbx), %xmm2
	/* A CPU that emulates everything (--accel soft) gets here: what it read, then a reset. */
	lea msg_unemulated_val(%rip), %rsi
	call puts
	movq %xmm2, %rax
	call puthex
	lea msg_nl(%rip), %rsi
	call puts
	mov $LAPIC, %r14
	jmp init_self

1:	lea targets(%rip), %r12
7:	mov (%r12), %rbx
	test %rbx, %rbx
	jz 2f
	call mmio_abuse
	add $8, %r12
	jmp 7b
2:	lea msg_kinds(%rip), %rsi
	call puts

	/* What reads of nothing give: all ones, for plain, SSE and string reads alike. */
	mov $0xd0000000, %rbx
	mov (%rbx), %rax
	lea msg_hole(%rip), %rsi
	push %rax
	call puts
	pop %rax
	call puthex
	movdqu 0x40(%rbx), %xmm3
	lea msg_sse(%rip), %rsi
	call puts
	movq %xmm3, %rax
	call puthex
	mov $0x8000000, %rsi            /* beyond RAM (64 MiB), copied into RAM with rep movsb */
	mov $SCRATCH, %rdi
	mov $64, %rcx
	rep movsb
	lea msg_string(%rip), %rsi
	call puts
	mov (SCRATCH + 56), %rax
	call puthex

	/* INIT, SIPI and INIT de-assert to every absent APIC ID, physical and logical, twice. */
	mov $LAPIC, %r14
	mov $2, %r13d
3:	mov $1, %r9d
4:	mov %r9d, %eax
	shl $24, %eax
	mov %eax, 0x310(%r14)
	movl $0x4500, 0x300(%r14)   /* INIT, assert, physical */
	movl $0x4608, 0x300(%r14)   /* SIPI, vector 8 */
	movl $0x8500, 0x300(%r14)   /* INIT de-assert, level */
	movl $0x4d00, 0x300(%r14)   /* INIT, logical */
	inc %r9d
	cmp $0xff, %r9d
	jb 4b
	dec %r13d
	jnz 3b
	lea msg_ipi(%rip), %rsi
	call puts

	/* INIT to itself (APIC ID 0): the CPU restarts at the reset vector, a machine reset. */
init_self:
	lea msg_init(%rip), %rsi
	call puts
	movl $0, 0x310(%r14)
	movl $0x4500, 0x300(%r14)
5:	pause
	jmp 5b

/* rbx = target: every access kind at rbx and just past its page. Clobbers rax, rcx, rsi, rdi. */
mmio_abuse:
	movb (%rbx), %al
	movw (%rbx), %ax
	movl (%rbx), %eax
	movq (%rbx), %rax
	movb %al, (%rbx)
	movw %ax, 2(%rbx)
	movl %eax, 4(%rbx)
	movq %rax, 8(%rbx)
	movzbl 1(%rbx), %eax            /* unaligned */
	movl 3(%rbx), %eax
	movq 5(%rbx), %rax
	movq 0xffc(%rbx), %rax          /* straddles into the next page */
	movq %rax, 0xffc(%rbx)
	movdqu (%rbx), %xmm0            /* SSE, 16 bytes */
	movdqu %xmm0, 16(%rbx)
	movaps 32(%rbx), %xmm1
	movaps %xmm1, 32(%rbx)
	mov $1, %eax                    /* locked read-modify-writes */
	lock xadd %eax, 8(%rbx)
	lock incq 8(%rbx)
	mov $2, %rcx
	lock cmpxchg %rcx, 16(%rbx)
	xchg %eax, 24(%rbx)
	lock orb $1, 3(%rbx)
	mov %rbx, %rsi                  /* string moves from and to MMIO, both directions */
	mov $SCRATCH, %rdi
	mov $64, %rcx
	rep movsb
	mov $SCRATCH, %rsi
	mov %rbx, %rdi
	mov $8, %rcx
	rep movsq
	std
	lea 0x38(%rbx), %rdi
	xor %eax, %eax
	mov $8, %rcx
	rep stosq
	cld
	mov %rbx, %rsi
	mov $16, %rcx
	rep lodsl
	ret

#include "serial.inc"

	.section .rodata
	.balign 8
targets:
	.quad 0xd0000000                /* the hole: nothing there */
	.quad 0xfec00000                /* IOAPIC (in KVM) */
	.quad 0xfee003f0                /* LAPIC (in KVM), reserved registers and past the page */
	.quad 0xfed00000                /* where an HPET would be */
	.quad 0x8000000                 /* beyond RAM */
	.quad 0xbffff000                /* the last page under the hole */
	.quad 0xffffe000                /* the top pages under 4 GiB (not past: unmapped) */
	.quad 0
msg_start:  .asciz "hostile_mmio: start\n"
msg_kinds:  .asciz "hostile_mmio: every kind done\n"
msg_hole:   .asciz "hostile_mmio: hole="
msg_sse:    .asciz "\nhostile_mmio: sse="
msg_string: .asciz "\nhostile_mmio: string="
msg_ipi:    .asciz "\nhostile_mmio: IPI storm done\n"
msg_init:   .asciz "hostile_mmio: INIT to self\n"
msg_unemulated: .asciz "hostile_mmio: unemulated MMIO\n"
msg_unemulated_val: .asciz "hostile_mmio: unemulated load="
msg_nl:     .asciz "\n"
