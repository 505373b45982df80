/* hardy-cpu-run: run a static x86-64 (or i386) Linux program on hardy's software CPU.
 * Usage: hardy-cpu-run [--stats] PROGRAM [ARGS...]   (exit status is the program's). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report_stats(struct runner *r, double t0)
{
	if (!r->stats)
		return;
	double dt = now() - t0;
	fprintf(stderr, "hardy-cpu-run: %llu instructions in %.3f s (%.1f MIPS)\n",
		(unsigned long long)r->cpu->icount, dt, (double)r->cpu->icount / dt / 1e6);
}

int main(int argc, char **argv)
{
	int i = 1;
	const char *argv0 = NULL;
	struct runner *r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "hardy-cpu-run: out of memory\n");
		return 1;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--stats") == 0) {
			r->stats = true;
		} else if (strcmp(argv[i], "--argv0") == 0 && i + 1 < argc) {
			argv0 = argv[++i];
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: hardy-cpu-run [--stats] PROGRAM [ARGS...]\n");
		return 2;
	}
	ssize_t n = readlink("/proc/self/exe", r->self_exe, sizeof(r->self_exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "hardy-cpu-run: cannot find own executable\n");
		return 1;
	}
	if (!realpath(argv[i], r->guest_exe)) {
		fprintf(stderr, "hardy-cpu-run: %s: cannot find program\n", argv[i]);
		return 2;
	}
	r->cpu = soft_cpu_create(&run_mem_ops, r);
	if (!r->cpu) {
		fprintf(stderr, "hardy-cpu-run: cannot create the CPU\n");
		return 1;
	}
	char **gargv = &argv[i];
	const char *path = argv[i];
	if (argv0)
		gargv[0] = (char *)argv0;
	extern char **environ;
	const char *err = run_load(r, path, argc - i, gargv, environ);
	if (err) {
		fprintf(stderr, "hardy-cpu-run: %s: %s\n", path, err);
		return 2;
	}
	double t0 = now();
	int code = 0;
	for (;;) {
		enum soft_exit e = soft_cpu_run(r->cpu, INT64_MAX);
		if (e == SOFT_EXIT_SYSCALL) {
			if (!run_syscall(r, &code))
				break;
			continue;
		}
		if (e == SOFT_EXIT_BUDGET)
			continue;
		if (e == SOFT_EXIT_EXCEPTION && r->i386 && r->cpu->exc_vector == SOFT_VEC_GP &&
		    r->cpu->exc_error == (0x80u << 3 | 2)) { /* int $0x80 (CD 80) */
			r->cpu->rip += 2;
			if (!run_syscall_i386(r, &code))
				break;
			continue;
		}
		char insn[160];
		soft_cpu_describe(r->cpu, r->cpu->rip, insn, sizeof(insn));
		if (e == SOFT_EXIT_HALT)
			fprintf(stderr, "hardy-cpu-run: guest executed HLT at %#llx\n",
				(unsigned long long)r->cpu->rip);
		else
			fprintf(stderr, "hardy-cpu-run: guest exception %u (error %#x, address %#llx) "
				"at rip %#llx: %s\n", r->cpu->exc_vector, r->cpu->exc_error,
				(unsigned long long)r->cpu->exc_addr,
				(unsigned long long)r->cpu->rip, insn);
		report_stats(r, t0);
		int sig = r->cpu->exc_vector == SOFT_VEC_DE ? SIGFPE
			: r->cpu->exc_vector == SOFT_VEC_UD ? SIGILL
			: r->cpu->exc_vector == SOFT_VEC_BP ? SIGTRAP : SIGSEGV;
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
	report_stats(r, t0);
	return code;
}
