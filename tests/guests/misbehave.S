/* A guest that misbehaves on purpose, to show that hardy survives it: port I/O nobody claims,
 * string I/O with large counts, accesses that straddle a device's range, MMIO in the 32-bit hole,
 * nonsense values for ACPI and RTC registers; then a triple fault, which must end the VM as a
 * reboot (exit status 0). Prints "misbehave: ..." lines that the test checks. */
	.code64
	.globl _start
_start:
	lea msg_start(%rip), %rsi
	call puts

	/* Ports nobody claims: reads give all ones, writes vanish. */
	mov $0x1234, %dx
	in %dx, %eax
	out %eax, %dx
	mov $0xffff, %dx
	in %dx, %al
	out %al, %dx

	/* String I/O with large counts, out of and into guest RAM. */
	mov $0x100000, %rsi
	mov $0x10000, %rcx
	mov $0x80, %dx
	rep outsb
	mov $0x300000, %rdi
	mov $0x1000, %rcx
	mov $0x5555, %dx
	rep insb
	mov 0x300ff8, %rax
	lea msg_ins(%rip), %rsi
	push %rax
	call puts
	pop %rax
	call puthex

	/* A 4-byte access that runs past the UART's 8 ports, and one past the ACPI block. */
	mov $0x3fe, %dx
	mov $0xffffffff, %eax
	out %eax, %dx
	mov $0x60e, %dx
	out %eax, %dx
	in %dx, %eax

	/* ACPI: a sleep type that does not exist, with SLP_EN; and clearing every status bit. */
	mov $0x604, %dx
	mov $((7 << 10) | (1 << 13)), %ax
	out %ax, %dx
	mov $0x600, %dx
	mov $0xffffffff, %eax
	out %eax, %dx

	/* RTC: an index past the 128 CMOS bytes, then its data port. */
	mov $0xff, %al
	out %al, $0x70
	in $0x71, %al
	out %al, $0x71

	/* MMIO in the hole below 4 GiB where no device lives: reads give all ones. */
	mov $0xd0000000, %rbx
	mov (%rbx), %rax
	movq %rax, (%rbx)
	movb $0x5a, 7(%rbx)
	push %rax
	lea msg_mmio(%rip), %rsi
	call puts
	pop %rax
	call puthex

	/* Above RAM, far beyond anything mapped in the guest's page tables would fault, so stay
	 * inside the identity map: the top of the hole, just under the IOAPIC. */
	mov $0xfebffff8, %rbx
	mov (%rbx), %rax

	lea msg_done(%rip), %rsi
	call puts

	/* Triple fault: an empty IDT, then an exception. */
	lidt idt_empty(%rip)
	int3
	hlt

#include "serial.inc"

	.section .rodata
msg_start: .asciz "misbehave: start\n"
msg_ins:   .asciz "\nmisbehave: insb="
msg_mmio:  .asciz "\nmisbehave: mmio="
msg_done:  .asciz "\nmisbehave: done\n"
	.balign 8
idt_empty: .word 0
	.quad 0
