/* Two vCPUs racing: the boot vCPU starts the second one (INIT, SIPI) in a real-mode loop of
 * port I/O to every device, does port I/O itself, then ends the machine while the other vCPU
 * is mid-I/O: --cmdline poweroff (ACPI S5) or --cmdline triple (a triple fault). Either way hardy
 * must stop cleanly with status 0. Run with --cpus 2 --mem 64M.
 * Prints "race: ..." lines that kvm_hostile_race checks; an exception on either vCPU (the guest
 * causes none before its deliberate triple fault) is reported as "race: ... exception" lines.
 * In the nested L1 (QEMU 7.2 TCG emulating SVM), on a heavily loaded host, a vCPU of this guest
 * was seen to end in a spontaneous KVM_EXIT_SHUTDOWN with no exception delivered through its
 * IDT (about 1 run in 15 at load 5; never on an idle host): hardy then exits 0 as for a reboot
 * and the test fails for want of the last line. The boot vCPU's own I/O loop is short (2000
 * rounds) to keep that window small; the race itself is the AP mid-I/O at the end. */
	.code64
	.globl _start

#define TRAMPOLINE 0x10000       /* SIPI vector 0x10 */
#define AP_FLAG    0x10f00       /* the AP sets it once running */
#define AP_COUNT   0x10f04       /* the AP's loop count */
#define CMDLINE    0x20000       /* X86_CMDLINE_GPA */
#define LAPIC      0xfee00000

_start:
	cli
	call idt_install
	lea msg_start(%rip), %rsi
	call puts

	lea ap_start(%rip), %rsi
	mov $TRAMPOLINE, %rdi
	mov $(ap_end - ap_start), %rcx
	rep movsb
	movl $0, (AP_FLAG)
	mov $LAPIC, %r14
	movl $(1 << 24), 0x310(%r14)    /* APIC ID 1 */
	movl $0x4500, 0x300(%r14)       /* INIT */
	mov $100000, %ecx
1:	pause
	loop 1b
	movl $0x4610, 0x300(%r14)       /* SIPI: start at 0x10000 */
	mov $100000, %ecx
2:	pause
	loop 2b
	movl $0x4610, 0x300(%r14)       /* the second SIPI, as the MP spec asks */

	mov $0x10000000, %rcx           /* wait for the AP, with a bound */
3:	cmpb $1, (AP_FLAG)
	je 4f
	pause
	loop 3b
	lea msg_no_ap(%rip), %rsi
	call puts
	jmp 5f
4:	mov (AP_COUNT), %eax            /* and wait until it is looping */
	mov $0x10000000, %rcx
6:	cmp (AP_COUNT), %eax
	jne 7f
	pause
	loop 6b
7:	lea msg_ap(%rip), %rsi
	call puts

5:	mov $2000, %r9d                 /* the boot vCPU's own port I/O, racing the AP's */
8:	mov $0x70, %dx
	mov $0x32, %al
	out %al, %dx
	in $0x71, %al
	mov $0xcf8, %dx
	mov $0x80000000, %eax
	out %eax, %dx
	mov $0xcfc, %dx
	in %dx, %eax
	mov $0x608, %dx
	in %dx, %eax
	mov $0x3fa, %dx
	in %dx, %al
	dec %r9d
	jnz 8b

	cmpb $'t', (CMDLINE)
	je 9f
	lea msg_poweroff(%rip), %rsi
	call puts
	mov $0x604, %dx
	mov $((5 << 10) | (1 << 13)), %ax
	out %ax, %dx
10:	hlt
	jmp 10b
9:	lea msg_triple(%rip), %rsi
	call puts
	lidt idt_empty(%rip)
	int3
	hlt

/* The boot vCPU's IDT: 32 gates to stubs that report an exception nobody caused (the guest
 * causes none before its deliberate triple fault), so that a test failure says what happened. */
idt_install:
	lea idt(%rip), %rdi
	lea exc_stubs(%rip), %rax
	xor %ecx, %ecx
1:	mov %rax, %rdx
	mov %dx, (%rdi)                 /* offset 15:0 */
	movw $0x10, 2(%rdi)             /* X86_BOOT_CS */
	movw $0x8e00, 4(%rdi)           /* present, DPL 0, 64-bit interrupt gate */
	shr $16, %rdx
	mov %dx, 6(%rdi)                /* offset 31:16 */
	shr $16, %rdx
	mov %edx, 8(%rdi)               /* offset 63:32 */
	movl $0, 12(%rdi)
	add $16, %rdi
	add $16, %rax
	inc %ecx
	cmp $32, %ecx
	jb 1b
	lidt idt_ptr(%rip)
	ret

	.balign 16
exc_stubs:
	.rept 32
	.balign 16
	push $(. - exc_stubs) / 16
	jmp exc_common
	.endr
exc_common:
	lea msg_exc(%rip), %rsi
	call puts
	pop %rax                        /* the vector */
	call puthex
	lea msg_nl(%rip), %rsi
	call puts
	lidt idt_empty(%rip)            /* end the run as the triple-fault case would */
	int3
	hlt

/* The second vCPU, in real mode at 0x10000: port I/O to every device, forever. Its IVT sends
 * every exception to ap_exception, which reports it and halts. */
	.code16
ap_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov $0, %bx
12:	movw $(ap_exception - ap_start), (%bx)
	movw $0x1000, 2(%bx)
	add $4, %bx
	cmp $(32 * 4), %bx
	jb 12b
	mov $0x1000, %ax
	mov %ax, %ds
	movb $1, 0xf00
11:	mov $0x09, %al
	out %al, $0x70
	in $0x71, %al
	mov $0xcf8, %dx
	mov $0x80000800, %eax
	out %eax, %dx
	mov $0xcfc, %dx
	in %dx, %eax
	mov $0x608, %dx
	in %dx, %eax
	mov $0x600, %dx
	in %dx, %ax
	mov $0x3ff, %dx
	out %al, %dx
	mov $0x3fd, %dx
	in %dx, %al
	in $0x64, %al
	incl 0xf04
	jmp 11b
ap_exception:
	mov $0x3f8, %dx
	mov $(ap_msg_end - ap_msg), %cx
	mov $(ap_msg - ap_start), %si
13:	mov %cs:(%si), %al
	out %al, %dx
	inc %si
	loop 13b
14:	hlt
	jmp 14b
ap_msg:	.ascii "race: second vCPU exception\n"
ap_msg_end:
ap_end:
	.code64

#include "serial.inc"

	.section .rodata
msg_start:    .asciz "race: start\n"
msg_ap:       .asciz "race: second vCPU running\n"
msg_no_ap:    .asciz "race: second vCPU did not start\n"
msg_poweroff: .asciz "race: powering off\n"
msg_triple:   .asciz "race: triple fault\n"
msg_exc:      .asciz "race: boot vCPU exception "
msg_nl:       .asciz "\n"
	.balign 8
idt_empty: .word 0
	.quad 0
idt_ptr: .word 32 * 16 - 1
	.quad idt
	.section .bss
	.balign 16
idt:	.skip 32 * 16
