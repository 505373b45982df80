/* The verbs that manage running VMs by name through their control sockets: list, pause,
 * resume, info, stop, kill. Bad usage and unknown names: one line, status 2. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/ctl_client.h"
#include "cli/parse.h"

#define CTL_STOP_TIMEOUT_DEFAULT 30u
#define CTL_KILL_GRACE_MS 5000u

static int ctl_usage(const char *verb, const char *fmt, const char *arg)
{
	fprintf(stderr, "hardy %s: ", verb);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'hardy help')\n");
	return ERR_INPUT;
}

static int ctl_fail(const struct error *err)
{
	fprintf(stderr, "hardy: %s\n", err->msg);
	return err->status ? err->status : ERR_RUNTIME;
}

/* The one NAME argument of a verb (and no other). */
static int ctl_name_arg(const char *verb, int argc, char **argv, int first, const char **name)
{
	for (int i = first; i < argc; i++)
		if (argv[i][0] == '-')
			return ctl_usage(verb, "unknown option '%s'", argv[i]);
	if (first >= argc)
		return ctl_usage(verb, "%s", "needs the name of a VM");
	if (first + 1 < argc)
		return ctl_usage(verb, "unexpected argument '%s'", argv[first + 1]);
	*name = argv[first];
	return 0;
}

/* A string field, "-" when it is null or missing (the API writes null for "none"). */
static const char *ctl_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *s = o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v)
									: NULL;
	return s ? s : "-";
}

static long long ctl_json_int(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

/* Seconds the process pid has run, from /proc (0 when it cannot be read). */
static double ctl_proc_uptime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long long start = 0;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	double up = 0;
	f = fopen("/proc/uptime", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lf", &up) != 1)
		up = 0;
	fclose(f);
	double t = up - (double)start / (double)sysconf(_SC_CLK_TCK);
	return t > 0 ? t : 0;
}

static void ctl_fmt_uptime(double s, char *buf, size_t len)
{
	unsigned long t = (unsigned long)s;
	if (t < 60)
		snprintf(buf, len, "%lus", t);
	else if (t < 3600)
		snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
	else
		snprintf(buf, len, "%luh%02lum", t / 3600, (t / 60) % 60);
}

/* One line of `hardy list`; 0 when the VM answered. */
static int ctl_list_one(const char *name)
{
	struct ctl_target t;
	struct error err = { 0 };
	struct json_object *root = NULL, *mc = NULL;
	if (ctl_find(name, &t, &err) < 0)
		return -1; /* stale (now cleaned) or gone */
	if (ctl_request(&t, "GET", "/", NULL, &root, &err) != 200)
		return -1;
	char vcpus[16] = "-", mem[24] = "-", up[24];
	if (ctl_request(&t, "GET", "/machine-config", NULL, &mc, &err) == 200) {
		snprintf(vcpus, sizeof(vcpus), "%lld", ctl_json_int(mc, "vcpu_count"));
		snprintf(mem, sizeof(mem), "%lldM", ctl_json_int(mc, "mem_size_mib"));
	}
	ctl_fmt_uptime(ctl_proc_uptime(t.pid), up, sizeof(up));
	printf("%-20s %-8d %-12s %-5s %-8s %s\n", name, (int)t.pid, ctl_json_str(root, "state"),
	       vcpus, mem, up);
	json_object_put(root);
	json_object_put(mc);
	return 0;
}

static int ctl_names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cli_list(int argc, char **argv)
{
	if (argc > 1)
		return ctl_usage("list", "unexpected argument '%s'", argv[1]);
	char dir[CTL_PATH_MAX];
	struct error err = { 0 };
	if (ctl_dir(dir, sizeof(dir), 0, &err) < 0)
		return ctl_fail(&err);
	printf("%-20s %-8s %-12s %-5s %-8s %s\n", "NAME", "PID", "STATE", "VCPUS", "MEM", "UPTIME");
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* no directory: nothing has run */
	char *names[256];
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d)) && n < 256;) {
		size_t len = strlen(e->d_name);
		if (len > 5 && !strcmp(e->d_name + len - 5, ".sock"))
			names[n++] = strndup(e->d_name, len - 5);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), ctl_names_cmp);
	for (size_t i = 0; i < n; i++) {
		if (names[i])
			ctl_list_one(names[i]);
		free(names[i]);
	}
	return 0;
}

static int ctl_patch_state(const char *verb, int argc, char **argv, const char *state)
{
	const char *name;
	int rc = ctl_name_arg(verb, argc, argv, 1, &name);
	if (rc)
		return rc;
	struct ctl_target t;
	struct error err = { 0 };
	struct json_object *reply;
	char body[64];
	snprintf(body, sizeof(body), "{\"state\": \"%s\"}", state);
	if (ctl_find(name, &t, &err) < 0 || ctl_request(&t, "PATCH", "/vm", body, &reply, &err) >= 300)
		return ctl_fail(&err);
	json_object_put(reply);
	return 0;
}

static int cli_pause(int argc, char **argv)
{
	return ctl_patch_state("pause", argc, argv, "Paused");
}

static int cli_resume(int argc, char **argv)
{
	return ctl_patch_state("resume", argc, argv, "Resumed");
}

static void ctl_print_info(const char *name, pid_t pid, struct json_object *root,
			   struct json_object *cfg)
{
	struct json_object *boot = NULL, *mc = NULL, *drives = NULL, *nics = NULL, *vs = NULL;
	json_object_object_get_ex(cfg, "boot-source", &boot);
	json_object_object_get_ex(cfg, "machine-config", &mc);
	json_object_object_get_ex(cfg, "drives", &drives);
	json_object_object_get_ex(cfg, "network-interfaces", &nics);
	json_object_object_get_ex(cfg, "vsock", &vs);
	char up[24];
	ctl_fmt_uptime(ctl_proc_uptime(pid), up, sizeof(up));
	printf("name:     %s\npid:      %d\nstate:    %s\nuptime:   %s\n", name, (int)pid,
	       ctl_json_str(root, "state"), up);
	if (mc)
		printf("vcpus:    %lld\nmemory:   %lld MiB\n", ctl_json_int(mc, "vcpu_count"),
		       ctl_json_int(mc, "mem_size_mib"));
	if (boot) {
		printf("kernel:   %s\n", ctl_json_str(boot, "kernel_image_path"));
		struct json_object *v;
		if (json_object_object_get_ex(boot, "initrd_path", &v) && v)
			printf("initrd:   %s\n", json_object_get_string(v));
		printf("cmdline:  %s\n", ctl_json_str(boot, "boot_args"));
	}
	for (size_t i = 0; drives && i < json_object_array_length(drives); i++) {
		struct json_object *dr = json_object_array_get_idx(drives, i), *ro;
		json_object_object_get_ex(dr, "is_read_only", &ro);
		printf("disk:     %s %s%s\n", ctl_json_str(dr, "drive_id"),
		       ctl_json_str(dr, "path_on_host"), json_object_get_boolean(ro) ? " (ro)" : "");
	}
	for (size_t i = 0; nics && i < json_object_array_length(nics); i++) {
		struct json_object *ni = json_object_array_get_idx(nics, i), *tap;
		printf("nic:      %s %s %s\n", ctl_json_str(ni, "iface_id"),
		       json_object_object_get_ex(ni, "host_dev_name", &tap)
			       ? json_object_get_string(tap) : "user",
		       ctl_json_str(ni, "guest_mac"));
	}
	if (vs)
		printf("vsock:    cid %lld, %s\n", ctl_json_int(vs, "guest_cid"),
		       ctl_json_str(vs, "uds_path"));
}

static int cli_info(int argc, char **argv)
{
	bool json = false;
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "--json")) {
		json = true;
		first = 2;
	} else if (argc > 2 && !strcmp(argv[2], "--json")) {
		json = true;
		argc--; /* NAME --json */
	}
	const char *name;
	int rc = ctl_name_arg("info", argc, argv, first, &name);
	if (rc)
		return rc;
	struct ctl_target t;
	struct error err = { 0 };
	struct json_object *root = NULL, *cfg = NULL;
	if (ctl_find(name, &t, &err) < 0 || ctl_request(&t, "GET", "/", NULL, &root, &err) != 200)
		return ctl_fail(&err);
	/* Before start (an API VM waiting to be configured) there is no configuration yet. */
	struct error cerr = { 0 };
	if (ctl_request(&t, "GET", "/vm/config", NULL, &cfg, &cerr) != 200)
		cfg = NULL;
	if (json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "pid", json_object_new_int(t.pid));
		json_object_object_add(o, "state", json_object_get(json_object_object_get(root, "state")));
		json_object_object_add(o, "uptime_s", json_object_new_int64((int64_t)ctl_proc_uptime(t.pid)));
		json_object_object_add(o, "config", cfg ? cfg : json_object_new_object());
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		ctl_print_info(name, t.pid, root, cfg);
		json_object_put(cfg);
	}
	json_object_put(root);
	return 0;
}

static bool ctl_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* Waits up to ms for pid to end; true when it did. */
static bool ctl_wait_gone(pid_t pid, unsigned ms)
{
	for (unsigned waited = 0; waited < ms; waited += 50) {
		if (!ctl_alive(pid))
			return true;
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return !ctl_alive(pid);
}

/* SIGQUIT stops a VM at once (hardy tears down and removes its socket); SIGKILL if even that
 * does not end it. */
static int ctl_kill_pid(const char *name, pid_t pid)
{
	if (kill(pid, SIGQUIT) < 0 && errno != ESRCH) {
		fprintf(stderr, "hardy: %s (pid %d): %s\n", name, (int)pid, strerror(errno));
		return ERR_RUNTIME;
	}
	if (!ctl_wait_gone(pid, CTL_KILL_GRACE_MS)) {
		kill(pid, SIGKILL);
		ctl_wait_gone(pid, CTL_KILL_GRACE_MS);
	}
	return 0;
}

static int cli_kill(int argc, char **argv)
{
	const char *name;
	int rc = ctl_name_arg("kill", argc, argv, 1, &name);
	if (rc)
		return rc;
	struct ctl_target t;
	struct error err = { 0 };
	if (ctl_find(name, &t, &err) < 0)
		return ctl_fail(&err);
	return ctl_kill_pid(name, t.pid);
}

static int cli_stop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ 0 },
	};
	unsigned timeout = CTL_STOP_TIMEOUT_DEFAULT;
	opterr = 0;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (opt == 't') {
			if (parse_count(optarg, &timeout) || timeout > 3600)
				return ctl_usage("stop", "--timeout '%s': seconds from 0 to 3600", optarg);
		} else {
			return ctl_usage("stop", "unknown option '%s'", argv[optind - 1]);
		}
	}
	const char *name;
	int rc = ctl_name_arg("stop", argc, argv, optind, &name);
	if (rc)
		return rc;
	struct ctl_target t;
	struct error err = { 0 };
	struct json_object *reply;
	if (ctl_find(name, &t, &err) < 0)
		return ctl_fail(&err);
	/* The ACPI power button; a VM that cannot take it (not started yet) is killed. */
	if (ctl_request(&t, "PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", &reply,
			&err) >= 300) {
		fprintf(stderr, "hardy: %s; killing it\n", err.msg);
		return ctl_kill_pid(name, t.pid);
	}
	json_object_put(reply);
	if (ctl_wait_gone(t.pid, timeout * 1000u))
		return 0;
	fprintf(stderr, "hardy: %s did not power off within %u s; killing it\n", name, timeout);
	ctl_kill_pid(name, t.pid);
	return ERR_RUNTIME;
}

static const struct {
	const char *verb;
	int (*fn)(int argc, char **argv);
} ctl_verbs[] = {
	{ "list", cli_list }, { "pause", cli_pause }, { "resume", cli_resume },
	{ "info", cli_info }, { "stop", cli_stop },   { "kill", cli_kill },
};

int cli_ctl(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(ctl_verbs) / sizeof(ctl_verbs[0]); i++)
		if (!strcmp(argv[0], ctl_verbs[i].verb))
			return ctl_verbs[i].fn(argc, argv);
	return -1;
}
