/* The VM's console: where the serial port's output goes (terminal, file, nowhere) and where its
 * input comes from (the terminal, in raw mode, with the Ctrl-A escape). */
#ifndef HARDY_VM_CONSOLE_H
#define HARDY_VM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "vm/config.h"

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

struct vm;

struct console {
	struct vm *vm;
	enum console_kind kind;
	int out_fd;     /* -1 for none */
	int in_fd;      /* -1 when no input (file, none, or stdin closed) */
	bool out_owned; /* opened here (a file), closed here */
	bool in_tty;
	bool escape_seen;
	/* Where guest-bound input goes (the serial port). */
	void (*deliver)(void *sink, const uint8_t *buf, size_t len);
	void *sink;
};

int console_open(struct console *con, struct vm *vm, const struct vm_config *cfg,
		 struct error *err);
void console_close(struct console *con);

/* Guest output; called from vCPU threads. */
void console_write(struct console *con, const uint8_t *buf, size_t len);

/* Reads what is available on in_fd and forwards it, handling the escape. Main thread. */
void console_read_input(struct console *con);

#endif
