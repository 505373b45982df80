/* The command-line verbs. Each returns the process exit status; main.c only dispatches. */
#ifndef HARDY_CLI_CLI_H
#define HARDY_CLI_CLI_H

int cli_run(int argc, char **argv);
/* `hardy run` configured through the API: a config file applied and started at once, an API
 * socket served (waiting for InstanceStart without a file), or both (api_run.c). cfg holds
 * what the flags set (name, console, accel). */
struct vm_config;
int cli_run_api(struct vm_config *cfg, const char *config_file, const char *api_sock);
void cli_print_help(void);

#endif
