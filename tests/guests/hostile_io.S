/* A guest that abuses every device through port I/O, to show that hardy survives it:
 * string I/O with large counts to every device port, forwards and with DF=1, and across the end
 * of RAM (KVM hands rep ins to hardy up to 1 KiB per exit but rep outs one element per exit, so
 * the outs counts are smaller: nested, each exit costs a fraction of a millisecond); every PCI
 * config dword of the host bridge, absent functions and buses, unaligned data-port accesses;
 * every SLP_TYP; every CMOS index and 0xFF into the binary year; UART divisor 0, loopback and
 * an interrupt storm; every i8042 command but reset. Then S5: exit status 0.
 * Run with --mem 64M. Prints "hostile_io: ..." lines that kvm_hostile_devices checks. */
	.code64
	.globl _start

#define ZEROS   0x1000000  /* 16 MiB: RAM nobody wrote, the source of string output */
#define SCRATCH 0x2000000  /* 32 MiB: destination of string input */
#define RAM_END 0x4000000  /* --mem 64M */
#define COUNT   0x4000     /* rep ins */
#define OCOUNT  0x40       /* rep outs */

_start:
	cli
	lea msg_start(%rip), %rsi
	call puts

	/* String I/O with large counts to every device port, and a very large one to port 0x80. */
	lea ports(%rip), %r12
1:	movzwl (%r12), %edx
	cmp $0xffff, %edx
	je 2f
	call string_io
	add $2, %r12
	jmp 1b
2:	mov $0x80, %dx
	mov $SCRATCH, %rdi
	mov $0x100000, %rcx
	rep insb
	lea msg_string(%rip), %rsi
	call puts

	/* Across the end of RAM, both ways and backwards: the part outside RAM goes nowhere. */
	mov $0x80, %dx
	mov $(RAM_END - 0x800), %rdi
	mov $0x1000, %rcx
	rep insb
	mov $(RAM_END - 0x80), %rsi
	mov $OCOUNT, %rcx
	rep outsb
	std
	mov $(RAM_END + 0x800), %rdi
	mov $0x1000, %rcx
	rep insb
	mov $(RAM_END + 0x200), %rsi
	mov $OCOUNT, %rcx
	rep outsl
	cld
	mov $(RAM_END * 2), %rsi
	mov $OCOUNT, %rcx
	rep outsw
	lea msg_ramend(%rip), %rsi
	call puts
	mov (RAM_END - 8), %rax
	call puthex

	call pci_abuse
	call acpi_abuse
	call rtc_abuse
	call uart_abuse
	call i8042_abuse

	lea msg_done(%rip), %rsi
	call puts
	/* S5: power off. */
	mov $0x604, %dx
	mov $((5 << 10) | (1 << 13)), %ax
	out %ax, %dx
3:	hlt
	jmp 3b

/* dx = port: rep outs and rep ins of each size, forwards and with DF=1. */
string_io:
	mov $ZEROS, %rsi
	mov $OCOUNT, %rcx
	rep outsb
	mov $ZEROS, %rsi
	mov $OCOUNT, %rcx
	rep outsw
	mov $ZEROS, %rsi
	mov $OCOUNT, %rcx
	rep outsl
	mov $SCRATCH, %rdi
	mov $COUNT, %rcx
	rep insb
	mov $SCRATCH, %rdi
	mov $COUNT, %rcx
	rep insw
	mov $SCRATCH, %rdi
	mov $COUNT, %rcx
	rep insl
	std
	mov $(ZEROS + 4 * OCOUNT), %rsi
	mov $OCOUNT, %rcx
	rep outsl
	mov $(SCRATCH + 4 * COUNT), %rdi
	mov $COUNT, %rcx
	rep insb
	cld
	ret

/* PCI conf1: r8d collects the AND of every read of an absent function (must stay all ones). */
pci_abuse:
	mov $0xffffffff, %r8d
	mov $1, %r9d                    /* buses 1..255, function 0, dword 0 */
1:	mov %r9d, %eax
	shl $16, %eax
	or $0x80000000, %eax
	mov $0xcf8, %dx
	out %eax, %dx
	mov $0xcfc, %dx
	in %dx, %eax
	and %eax, %r8d
	inc %r9d
	cmp $256, %r9d
	jb 1b
	mov $1, %r9d                    /* bus 0, devfn 1..255: dwords 0, 4, 8 and from 0xF0 */
2:	xor %r10d, %r10d
3:	cmp $12, %r10d
	jne 5f
	mov $0xf0, %r10d
5:	mov %r9d, %eax
	shl $8, %eax
	or %r10d, %eax
	or $0x80000000, %eax
	mov $0xcf8, %dx
	out %eax, %dx
	mov $0xcfc, %dx
	in %dx, %eax
	and %eax, %r8d
	add $4, %r10d
	cmp $256, %r10d
	jb 3b
	inc %r9d
	cmp $256, %r9d
	jb 2b
	xor %r10d, %r10d                /* the host bridge: every dword read, written, read */
4:	mov %r10d, %eax
	or $0x80000000, %eax
	mov $0xcf8, %dx
	out %eax, %dx
	mov $0xcfc, %dx
	in %dx, %eax
	mov $0xffffffff, %eax
	out %eax, %dx
	in %dx, %eax
	mov $0xcfd, %dx                 /* unaligned and straddling data-port accesses */
	in %dx, %al
	in %dx, %ax
	in %dx, %eax
	out %eax, %dx
	mov $0xcfe, %dx
	in %dx, %eax
	out %ax, %dx
	mov $0xcff, %dx
	in %dx, %ax
	out %ax, %dx
	add $4, %r10d
	cmp $256, %r10d
	jb 4b
	mov $0xcf9, %dx                 /* address-port oddities (never the 0xCF9 reset bit) */
	in %dx, %eax
	mov $0xcfa, %dx
	out %ax, %dx
	mov $0xcfb, %dx
	in %dx, %al
	mov $0x7fffffff, %eax           /* no enable bit: reads all ones */
	mov $0xcf8, %dx
	out %eax, %dx
	mov $0xcfc, %dx
	in %dx, %eax
	and %eax, %r8d
	mov $0x80000003, %eax           /* low bits set: the host bridge's dword 0 */
	mov $0xcf8, %dx
	out %eax, %dx
	mov $0xcfc, %dx
	in %dx, %eax
	mov %eax, %r9d
	lea msg_pci_absent(%rip), %rsi
	call puts
	mov %r8, %rax
	call puthex
	lea msg_pci_vendor(%rip), %rsi
	call puts
	mov %r9, %rax
	call puthex
	ret

/* ACPI PM: every SLP_TYP with SLP_EN but S5, every one without; status, enable, timer, reset
 * register at every offset and size (never the reset value 1). */
acpi_abuse:
	xor %r9d, %r9d
1:	mov %r9d, %eax
	shl $10, %eax
	mov $0x604, %dx
	out %ax, %dx                    /* SLP_TYP without SLP_EN */
	cmp $5, %r9d
	je 2f
	or $(1 << 13), %eax
	out %ax, %dx                    /* with SLP_EN: a sleep state that does not exist */
2:	inc %r9d
	cmp $8, %r9d
	jb 1b
	mov $0x605, %dx                 /* SLP_EN in the high byte alone, SLP_TYP 7 */
	mov $0x3f, %al
	out %al, %dx
	mov $0x600, %dx
	mov $0xffffffff, %eax
	out %eax, %dx
	mov $0x602, %dx
	out %ax, %dx
	xor %eax, %eax
	out %ax, %dx
	mov $0x600, %r9d                /* every offset, every size */
3:	mov %r9w, %dx
	in %dx, %al
	in %dx, %ax
	in %dx, %eax
	inc %r9d
	cmp $0x610, %r9d
	jb 3b
	mov $0x60c, %dx
	xor %al, %al
	out %al, %dx
	mov $0xff, %al
	out %al, %dx
	mov $0x02, %al
	out %al, %dx
	in %dx, %al
	lea msg_acpi(%rip), %rsi
	call puts
	ret

/* CMOS: every index read and written with 0xFF and 0; then 0xFF into the binary year and
 * century 300 times; then bad BCD into every time register. Leaves BCD, 24-hour. */
rtc_abuse:
	xor %r9d, %r9d
1:	mov %r9b, %al
	out %al, $0x70
	in $0x71, %al
	mov $0xff, %al
	out %al, $0x71
	in $0x71, %al
	xor %al, %al
	out %al, $0x71
	inc %r9d
	cmp $256, %r9d
	jb 1b
	mov $0x0b, %al
	out %al, $0x70
	mov $0x06, %al                  /* binary, 24-hour */
	out %al, $0x71
	mov $300, %r9d
2:	mov $0x09, %al
	out %al, $0x70
	mov $0xff, %al
	out %al, $0x71
	mov $0x32, %al
	out %al, $0x70
	mov $0xff, %al
	out %al, $0x71
	in $0x71, %al
	dec %r9d
	jnz 2b
	mov $0x0b, %al
	out %al, $0x70
	mov $0x02, %al                  /* BCD, 24-hour */
	out %al, $0x71
	xor %r9d, %r9d
3:	mov %r9b, %al
	out %al, $0x70
	mov $0x9a, %al                  /* not a BCD number */
	out %al, $0x71
	in $0x71, %al
	inc %r9d
	cmp $0x0a, %r9d
	jb 3b
	mov $0x09, %al                  /* the year reads as a BCD number after all that */
	out %al, $0x70
	in $0x71, %al
	movzbl %al, %r9d
	lea msg_rtc(%rip), %rsi
	call puts
	mov %r9, %rax
	call puthex
	ret

/* UART: divisor 0, loopback (a byte sent comes back), an interrupt storm, FIFO clears. */
uart_abuse:
	mov $0x3fb, %dx
	mov $0x80, %al                  /* DLAB */
	out %al, %dx
	mov $0x3f8, %dx
	xor %al, %al
	out %al, %dx
	mov $0x3f9, %dx
	out %al, %dx
	mov $0x3fb, %dx
	mov $0x03, %al
	out %al, %dx
	mov $0x3fc, %dx
	mov $0x1f, %al                  /* loopback, all modem outputs */
	out %al, %dx
	mov $0x3f8, %dx
	mov $0x5a, %al
	out %al, %dx
	in %dx, %al
	movzbl %al, %r10d
	mov $0x3fe, %dx
	in %dx, %al
	mov $0x3fc, %dx
	mov $0x08, %al                  /* OUT2 only: the interrupt line is live */
	out %al, %dx
	mov $5000, %r9d
1:	mov $0x3f9, %dx
	mov $0x0f, %al
	out %al, %dx
	xor %al, %al
	out %al, %dx
	mov $0x3fa, %dx
	in %dx, %al
	dec %r9d
	jnz 1b
	mov $0x3fa, %dx
	mov $0xff, %al
	out %al, %dx
	xor %al, %al
	out %al, %dx
	mov $0x3fc, %dx
	out %al, %dx
	lea msg_uart(%rip), %rsi
	call puts
	mov %r10, %rax
	call puthex
	ret

/* i8042: every command byte but 0xFE (reset), and the data port. */
i8042_abuse:
	xor %r9d, %r9d
1:	cmp $0xfe, %r9d
	je 2f
	mov %r9b, %al
	out %al, $0x64
	in $0x64, %al
	in $0x60, %al
	mov %r9b, %al
	out %al, $0x60
2:	inc %r9d
	cmp $256, %r9d
	jb 1b
	lea msg_i8042(%rip), %rsi
	call puts
	ret

#include "serial.inc"

	.section .rodata
	.balign 2
ports:	.word 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff
	.word 0x60, 0x64, 0x70, 0x71
	.word 0xcf8, 0xcf9, 0xcfa, 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff
	.word 0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x606, 0x607
	.word 0x608, 0x609, 0x60a, 0x60b, 0x60c, 0x60d, 0x60e, 0x60f
	.word 0xffff
msg_start:      .asciz "hostile_io: start\n"
msg_string:     .asciz "hostile_io: string I/O done\n"
msg_ramend:     .asciz "hostile_io: last RAM qword="
msg_pci_absent: .asciz "\nhostile_io: pci absent=" 
msg_pci_vendor: .asciz "\nhostile_io: pci 00:00.0="
msg_acpi:       .asciz "\nhostile_io: acpi done\n"
msg_rtc:        .asciz "hostile_io: rtc year="
msg_uart:       .asciz "\nhostile_io: uart loopback="
msg_i8042:      .asciz "\nhostile_io: i8042 done\n"
msg_done:       .asciz "hostile_io: done\n"
