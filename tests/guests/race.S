/* Two vCPUs racing: the boot vCPU starts the second one (INIT, SIPI) in a real-mode loop of
 * port I/O to every device, does port I/O itself, then ends the machine while the other vCPU
 * is mid-I/O: --cmdline poweroff (ACPI S5) or --cmdline triple (a triple fault). Either way hardy
 * must stop cleanly with status 0. Run with --cpus 2 --mem 64M.
 * Prints "race: ..." lines that kvm_hostile_race checks. */
	.code64
	.globl _start

#define TRAMPOLINE 0x10000       /* SIPI vector 0x10 */
#define AP_FLAG    0x10f00       /* the AP sets it once running */
#define AP_COUNT   0x10f04       /* the AP's loop count */
#define CMDLINE    0x20000       /* X86_CMDLINE_GPA */
#define LAPIC      0xfee00000

_start:
	cli
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

5:	mov $20000, %r9d                /* the boot vCPU's own port I/O, racing the AP's */
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

/* The second vCPU, in real mode at 0x10000: port I/O to every device, forever. */
	.code16
ap_start:
	cli
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
ap_end:
	.code64

#include "serial.inc"

	.section .rodata
msg_start:    .asciz "race: start\n"
msg_ap:       .asciz "race: second vCPU running\n"
msg_no_ap:    .asciz "race: second vCPU did not start\n"
msg_poweroff: .asciz "race: powering off\n"
msg_triple:   .asciz "race: triple fault\n"
	.balign 8
idt_empty: .word 0
	.quad 0
