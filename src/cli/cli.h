/* The command-line verbs. Each returns the process exit status; main.c only dispatches. */
#ifndef HARDY_CLI_CLI_H
#define HARDY_CLI_CLI_H

int cli_run(int argc, char **argv);
/* list, pause, resume, info, stop, kill (argv[0] is the verb); -1 for another verb. */
int cli_ctl(int argc, char **argv);
void cli_print_help(void);

#endif
