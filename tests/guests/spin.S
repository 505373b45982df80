/* A guest that never answers: interrupts off, spinning forever. The power button cannot stop
 * it; hardy must still stop it on a second SIGTERM (the vCPU is kicked out of guest mode). */
	.code64
	.globl _start
_start:
	lea msg(%rip), %rsi
	call puts
	cli
1:	jmp 1b

#include "serial.inc"

	.section .rodata
msg: .asciz "spin: spinning with interrupts off\n"
