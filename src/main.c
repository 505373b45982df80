/* hardy: a virtual machine monitor. Subcommand dispatch only; each verb lives in src/cli/. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/proc_title.h"

#ifndef HARDY_VERSION
#define HARDY_VERSION "dev"
#endif

void cli_print_help(void)
{
	fputs("usage: hardy COMMAND [options]\n"
	      "\n"
	      "Commands:\n"
	      "  run        boot a Linux guest (see 'hardy run --help')\n"
	      "  list       the running VMs: NAME PID STATE VCPUS MEM UPTIME\n"
	      "  pause NAME / resume NAME   stop every vCPU of a VM / let it run again\n"
	      "  info NAME [--json]         a VM's configuration and state\n"
	      "  stop NAME [--timeout S]    ACPI power button, killed after S s (default 30)\n"
	      "  kill NAME  stop a VM at once\n"
	      "  help       this help\n"
	      "  --version  print the version\n",
	      stdout);
}

static int dispatch(int argc, char **argv)
{
	if (argc < 2) {
		cli_print_help();
		return 2;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "run"))
		return cli_run(argc - 1, argv + 1);
	int ctl = cli_ctl(argc - 1, argv + 1);
	if (ctl >= 0)
		return ctl;
	if (!strcmp(verb, "help") || !strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		cli_print_help();
		return 0;
	}
	if (!strcmp(verb, "--version") || !strcmp(verb, "version")) {
		printf("hardy %s\n", HARDY_VERSION);
		return 0;
	}
	fprintf(stderr, "hardy: unknown command '%s' (see 'hardy help')\n", verb);
	return 2;
}

/* A closed stdin, stdout or stderr becomes /dev/null, so that no file hardy opens later (a
 * kernel, a KVM descriptor) takes its number and receives console output or messages. */
static void std_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

int main(int argc, char **argv)
{
	std_fds_open();
	char **args = proc_title_init(argc, argv);
	int status = dispatch(argc, args);
	proc_title_free_argv(args, argv);
	return status;
}
