/* The host terminal in raw mode, restored on every way out: normal return, exit(), and fatal
 * signals (the handler restores, then lets the signal do what it would have done). */
#ifndef HARDY_UTIL_TERM_H
#define HARDY_UTIL_TERM_H

#include <stdbool.h>

/* Puts fd (a tty) in raw mode; returns false when fd is not a terminal. */
bool term_raw_enter(int fd);
void term_restore(void);

#endif
