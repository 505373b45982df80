/* `hardy run`: flags -> struct vm_config -> a VMM (event loop, signals, control socket) that
 * creates and starts the VM. All user input is checked here or in vm_config_validate()/boot
 * loading before any VM is created. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/parse.h"
#include "util/proc_title.h"
#include "core/config.h"
#include "vmm/vmm.h"

static const char run_usage[] =
	"usage: hardy run [options]\n"
	"Boot a Linux guest. Without --kernel, the default guest (build/guest/) is used.\n"
	"\n"
	"  --kernel PATH     bzImage or ELF vmlinux to boot, or a Multiboot (v1) ELF32 kernel\n"
	"  --initrd PATH     initramfs (cpio, may be compressed); Multiboot: the one module\n"
	"  --cmdline STR     kernel command line (default: \"" HARDY_DEFAULT_CMDLINE "\";\n"
	"                    Multiboot kernels get their path, then only a --cmdline given)\n"
	"  --cpus N          number of vCPUs (default 1, at most 255)\n"
	"  --mem SIZE        guest RAM, with K/M/G suffix (default 512M, at least 64M)\n"
	"  --name NAME       VM name, shown in ps as 'hardy: NAME' (default \"vm\")\n"
	"  --accel KIND      auto|kvm|soft: soft is hardy's own CPU; auto (the default, or\n"
	"                    $HARDY_ACCEL) takes kvm when it works here, else soft with one line\n"
	"                    saying why\n"
	"  --console KIND    stdio|file:PATH|none (default stdio)\n"
	"  --console-limit SIZE  largest console file, K/M/G suffix (default 64M, 0: no limit);\n"
	"                    past it one notice line is written and further output dropped\n"
	"  --disk PATH[,ro][,id=ID][,aio=io_uring|sync]\n"
	"                    a raw disk image as virtio-blk (/dev/vda, vdb, ...; up to 8);\n"
	"                    ro: read-only; id: what the guest's GET_ID (serial) returns;\n"
	"                    aio: io_uring, many requests in flight (default; sync where the\n"
	"                    kernel refuses it), or sync: one at a time\n"
	"  --net user[,hostfwd=tcp|udp:[HADDR]:HPORT-[GADDR]:GPORT]...[,mac=MAC]\n"
	"                    a virtio-net NIC on a user-mode network (libslirp): 10.0.2.0/24, the\n"
	"                    guest gets 10.0.2.15 by DHCP, 10.0.2.2 is the host, 10.0.2.3 DNS;\n"
	"                    hostfwd forwards a host port to the guest (up to 8 rules)\n"
	"  --net tap=IFNAME[,mac=MAC]  a virtio-net NIC on an existing TAP interface, with\n"
	"                    checksum and TSO offloads; --net repeats (up to 8 NICs); default MACs\n"
	"                    52:54:00:12:34:56, :57, ...\n"
	"  --vsock cid=N,uds=PATH  a virtio-vsock device with guest CID N (3 or more); host\n"
	"                    clients connect to the Unix socket PATH and write 'CONNECT <port>\\n'\n"
	"                    (answer 'OK <hostport>\\n'); guest connections to CID 2 port P reach\n"
	"                    the Unix socket PATH_P\n"
	"  --no-rng          no virtio-rng device (default: one, fed from the host's getrandom)\n"
	"  --debug-exit      QEMU's isa-debug-exit at port 0xf4, for test kernels: a write of V\n"
	"                    ends hardy with status ((V << 1) | 1) & 255 (a process status has 8\n"
	"                    bits) and 'hardy: debug-exit code V' on stderr\n"
	"  --soft-profile PATH  with --accel soft: sample where the guest spends its\n"
	"                    instructions and write the hottest guest addresses to PATH at exit\n"
	"                    (docs/soft-cpu.md, \"Profiling\")\n"
	"  --api-sock PATH   serve the Firecracker-compatible API on a Unix socket (mode 0600);\n"
	"                    without --config-file, hardy waits to be configured and started\n"
	"                    through it (PUT /boot-source ..., PUT /actions InstanceStart)\n"
	"  --config-file PATH  boot from a Firecracker config file (the JSON of GET /vm/config);\n"
	"                    with either, the VM's flags (--kernel, --cpus, --disk, ...) are not\n"
	"                    allowed: the JSON describes it (defaults 1 vCPU, 128 MiB, no rng)\n"
	"  -h, --help        this help\n"
	"\n"
	"Console: Ctrl-A x quits, Ctrl-A a sends Ctrl-A, Ctrl-A h shows help. Output that a slow\n"
	"reader cannot take is dropped (never slowing the guest); stderr gives the count at exit.\n"
	"SIGTERM presses the ACPI power button; a second SIGTERM, or the guest not powering off\n"
	"within 30 s, stops the VM; so do SIGHUP and SIGQUIT. Exit status: 0 guest powered off or\n"
	"rebooted, 1 run-time failure, 2 bad usage or input (odd statuses with a 'debug-exit'\n"
	"line: the guest's own, see --debug-exit).\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("hardy run: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see 'hardy run --help')\n", stderr);
	return ERR_INPUT;
}

/* The default guest sits beside the binary: build/hardy -> build/guest/{vmlinuz,initrd}. */
static int default_guest_path(const char *file, char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	int w = snprintf(buf, len, "%s/guest/%s", dirname(exe), file);
	return (w < 0 || (size_t)w >= len) ? -1 : 0;
}

static int parse_console(const char *s, struct vm_config *c, struct error *err)
{
	if (!strcmp(s, "stdio"))
		c->console = CONSOLE_STDIO;
	else if (!strcmp(s, "none"))
		c->console = CONSOLE_NONE;
	else if (!strncmp(s, "file:", 5) && s[5]) {
		c->console = CONSOLE_FILE;
		return vm_config_set_str(&c->console_path, s + 5, err);
	} else
		return -1;
	return 0;
}

static int parse_accel(const char *s, struct vm_config *c)
{
	if (!strcmp(s, "auto"))
		c->accel = ACCEL_AUTO;
	else if (!strcmp(s, "kvm"))
		c->accel = ACCEL_KVM;
	else if (!strcmp(s, "soft"))
		c->accel = ACCEL_SOFT;
	else
		return -1;
	return 0;
}

/* An owned copy of a flag's string into the config. */
static int run_set(char **field, const char *value, struct error *err)
{
	return vm_config_set_str(field, value, err);
}

enum { RUN_PARSED = -1 };

/* Flags into cfg; RUN_PARSED, or the exit status to end with (0 for --help). */
struct run_args {
	const char *api_sock, *config_file;
	bool name_given;
};

static int run_parse(int argc, char **argv, struct vm_config *cfg, struct run_args *args,
		     struct error *err)
{
	enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_CPUS, OPT_MEM, OPT_NAME,
	       OPT_ACCEL, OPT_CONSOLE, OPT_CONSOLE_LIMIT, OPT_NO_RNG, OPT_DISK, OPT_NET,
	       OPT_VSOCK, OPT_API_SOCK, OPT_CONFIG_FILE, OPT_DEBUG_EXIT, OPT_SOFT_PROFILE };
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "accel", required_argument, NULL, OPT_ACCEL },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "console-limit", required_argument, NULL, OPT_CONSOLE_LIMIT },
		{ "no-rng", no_argument, NULL, OPT_NO_RNG },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "vsock", required_argument, NULL, OPT_VSOCK },
		{ "debug-exit", no_argument, NULL, OPT_DEBUG_EXIT },
		{ "soft-profile", required_argument, NULL, OPT_SOFT_PROFILE },
		{ "api-sock", required_argument, NULL, OPT_API_SOCK },
		{ "config-file", required_argument, NULL, OPT_CONFIG_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool initrd_given = false;
	const char *vm_flag = NULL; /* the first flag that describes the VM itself */

	/* HARDY_ACCEL: the default for --accel (the test harness runs the same tests on every
	 * backend this way); the flag still wins. */
	const char *accel_env = getenv("HARDY_ACCEL");
	if (accel_env && *accel_env && parse_accel(accel_env, cfg))
		return usage_error("HARDY_ACCEL='%s': expected auto, kvm or soft", accel_env);
	opterr = 0;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		int rc = 0;
		if (!vm_flag && (opt == OPT_KERNEL || opt == OPT_INITRD || opt == OPT_CMDLINE ||
				 opt == OPT_CPUS || opt == OPT_MEM || opt == OPT_NO_RNG ||
				 opt == OPT_DISK || opt == OPT_NET || opt == OPT_VSOCK ||
				 opt == OPT_DEBUG_EXIT || opt == OPT_SOFT_PROFILE))
			for (const struct option *o = opts; o->name && !vm_flag; o++)
				if (o->val == opt)
					vm_flag = o->name;
		switch (opt) {
		case OPT_KERNEL: rc = run_set(&cfg->kernel_path, optarg, err); break;
		case OPT_INITRD:
			rc = run_set(&cfg->initrd_path, optarg, err);
			initrd_given = true;
			break;
		case OPT_CMDLINE: rc = run_set(&cfg->cmdline, optarg, err); break;
		case OPT_CPUS:
			if (parse_count(optarg, &cfg->ncpus))
				return usage_error("--cpus '%s': not a number", optarg);
			break;
		case OPT_MEM:
			if (parse_size(optarg, &cfg->mem_size))
				return usage_error("--mem '%s': not a size (examples: 512M, 2G)", optarg);
			break;
		case OPT_NAME:
			rc = run_set(&cfg->name, optarg, err);
			args->name_given = true;
			break;
		case OPT_ACCEL:
			if (parse_accel(optarg, cfg))
				return usage_error("--accel '%s': expected auto, kvm or soft", optarg);
			break;
		case OPT_CONSOLE:
			if (parse_console(optarg, cfg, err))
				return err->status ? err->status
						   : usage_error("--console '%s': expected stdio, "
								 "file:PATH or none", optarg);
			break;
		case OPT_CONSOLE_LIMIT:
			if (parse_size(optarg, &cfg->console_limit))
				return usage_error("--console-limit '%s': not a size (examples: 64M, 1G, 0)",
						   optarg);
			break;
		case OPT_NO_RNG: cfg->rng = false; break;
		case OPT_DISK: {
			char problem[96], spec[PATH_MAX + 64];
			struct vm_disk_config d;
			if (cfg->nr_disks == HARDY_MAX_DISKS)
				return usage_error("--disk '%s': at most 8 disks", optarg);
			if (strlen(optarg) >= sizeof(spec))
				return usage_error("--disk '%.60s...': too long", optarg);
			strcpy(spec, optarg);
			if (parse_disk(spec, &d, problem, sizeof(problem)) < 0) {
				char msg[PATH_MAX + 200];
				snprintf(msg, sizeof(msg), "--disk '%s': %s", optarg, problem);
				return usage_error("%s", msg);
			}
			rc = vm_config_add_disk(cfg, &d, err);
			break;
		}
		case OPT_NET: {
			char problem[160], spec[512];
			struct vm_net_config n;
			if (cfg->nr_nets == HARDY_MAX_NICS)
				return usage_error("--net '%s': at most 8 NICs", optarg);
			if (strlen(optarg) >= sizeof(spec))
				return usage_error("--net '%.60s...': too long", optarg);
			strcpy(spec, optarg);
			if (parse_net(spec, cfg->nr_nets, &n, problem, sizeof(problem)) < 0) {
				char msg[sizeof(spec) + sizeof(problem) + 16];
				snprintf(msg, sizeof(msg), "--net '%s': %s", optarg, problem);
				return usage_error("%s", msg);
			}
			rc = vm_config_add_net(cfg, &n, err);
			break;
		}
		case OPT_VSOCK: {
			char problem[96], spec[PATH_MAX + 64];
			struct vm_vsock_config v;
			if (cfg->vsock.enabled)
				return usage_error("--vsock '%s': only one vsock device", optarg);
			if (strlen(optarg) >= sizeof(spec))
				return usage_error("--vsock '%.60s...': too long", optarg);
			strcpy(spec, optarg);
			if (parse_vsock(spec, &v, problem, sizeof(problem)) < 0) {
				char msg[PATH_MAX + 200];
				snprintf(msg, sizeof(msg), "--vsock '%s': %s", optarg, problem);
				return usage_error("%s", msg);
			}
			rc = vm_config_set_vsock(cfg, &v, err);
			break;
		}
		case OPT_DEBUG_EXIT: cfg->debug_exit = true; break;
		case OPT_SOFT_PROFILE: rc = run_set(&cfg->soft_profile, optarg, err); break;
		case OPT_API_SOCK: args->api_sock = optarg; break;
		case OPT_CONFIG_FILE: args->config_file = optarg; break;
		case 'h':
			fputs(run_usage, stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (rc < 0) {
			fprintf(stderr, "hardy: %s\n", err->msg);
			return err->status;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	if (args->api_sock || args->config_file) {
		if (vm_flag)
			return usage_error("--%s: not with --api-sock or --config-file (the JSON "
					   "describes the VM)", vm_flag);
		return RUN_PARSED; /* the API checks the rest */
	}
	if (vm_config_validate(cfg, err) < 0) {
		fprintf(stderr, "hardy: %s\n", err->msg);
		return err->status;
	}
	if (!cfg->kernel_path) {
		char kernel[PATH_MAX], initrd[PATH_MAX];
		if (default_guest_path("vmlinuz", kernel, sizeof(kernel)) ||
		    access(kernel, F_OK) != 0) {
			fprintf(stderr, "hardy run: no --kernel given and the default guest is missing "
					"(%s): build it with 'make guest'\n", kernel);
			return ERR_INPUT;
		}
		if (run_set(&cfg->kernel_path, kernel, err) < 0 ||
		    (!initrd_given && default_guest_path("initrd", initrd, sizeof(initrd)) == 0 &&
		     run_set(&cfg->initrd_path, initrd, err) < 0)) {
			fprintf(stderr, "hardy: %s\n", err->msg);
			return err->status;
		}
	}
	return RUN_PARSED;
}

/* The VMM under the VM's name; an unnamed VM takes "vm", or "vm-PID" when a "vm" runs. */
static struct vmm *run_vmm(struct vm_config *cfg, bool name_given, struct error *err)
{
	struct error first = { 0 };
	struct vmm *m = vmm_create(cfg, &first);
	if (m || name_given || first.status != ERR_INPUT) {
		if (!m)
			*err = first;
		return m;
	}
	char name[32];
	snprintf(name, sizeof(name), "%s-%d", HARDY_DEFAULT_NAME, (int)getpid());
	if (vm_config_set_str(&cfg->name, name, err) < 0)
		return NULL;
	return vmm_create(cfg, err);
}

/* Flags start the VM at once; a config file starts it from the JSON; an API socket serves
 * (and, without a file, waits for InstanceStart). */
static int run_vm(struct vm_config *cfg, const struct run_args *args, struct error *err)
{
	struct vmm *m = run_vmm(cfg, args->name_given, err);
	if (m) {
		proc_title_set("hardy: %s", cfg->name);
		/* The API socket first: a bad path is status 2 before any VM exists. */
		int rc = args->api_sock ? vmm_serve_api(m, args->api_sock, err) : 0;
		if (rc == 0 && args->config_file)
			rc = vmm_load_config_file(m, args->config_file, err);
		else if (rc == 0 && !args->api_sock)
			rc = vmm_start(m, cfg, err);
		if (rc == 0)
			vmm_run(m, err);
		vmm_destroy(m);
	}
	if (err->status != ERR_OK)
		fprintf(stderr, "hardy: %s\n", err->msg);
	return err->status;
}

int cli_run(int argc, char **argv)
{
	struct error err = { 0 };
	struct vm_config cfg;
	if (vm_config_defaults(&cfg, &err) < 0) {
		fprintf(stderr, "hardy: %s\n", err.msg);
		return err.status;
	}
	struct run_args args = { 0 };
	int status = run_parse(argc, argv, &cfg, &args, &err);
	if (status == RUN_PARSED)
		status = run_vm(&cfg, &args, &err);
	vm_config_free(&cfg);
	return status;
}
