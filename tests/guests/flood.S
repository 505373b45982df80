/* A guest that writes to the UART without pause, interrupts off (so the power button does not
 * stop it either): for the console back-pressure tests (kvm_console_blocked). rep outsb sends a
 * page per exit, so the output is fast even nested. */
	.code64
	.globl _start

#define BUF 0x1000000

_start:
	lea msg(%rip), %rsi
	call puts
	cli
	mov $BUF, %rdi                  /* 64 KiB of 'x' with a newline every 64 bytes */
	mov $'x', %al
	mov $0x10000, %rcx
	rep stosb
	mov $(BUF + 63), %rdi
1:	movb $'\n', (%rdi)
	add $64, %rdi
	cmp $(BUF + 0x10000), %rdi
	jb 1b
	mov $0x3f8, %dx
2:	mov $BUF, %rsi
	mov $0x10000, %rcx
	rep outsb
	jmp 2b

#include "serial.inc"

	.section .rodata
msg: .asciz "flood: flooding\n"
