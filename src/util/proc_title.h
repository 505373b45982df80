/* A VM is a process: its name shows in ps as "hardy: NAME", both as the command name (comm, what
 * `ps -e` and `top` show) and as the argument string (what `ps aux` shows). */
#ifndef HARDY_UTIL_PROC_TITLE_H
#define HARDY_UTIL_PROC_TITLE_H

/* Copies argv to the heap (returned; use it instead of argv) so the original argument area can
 * later hold the title. Call first thing in main(). */
char **proc_title_init(int argc, char **argv);
/* Frees what proc_title_init returned (nothing when it had to return the original). */
void proc_title_free_argv(char **copy, char **original);
void proc_title_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
