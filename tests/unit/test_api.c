/* Unit test: the API's request handling (src/api/) against fake VMM callbacks, no sockets:
 * every endpoint's good and bad inputs (malformed JSON, unknown fields, wrong types,
 * out-of-range values, unknown paths and methods), Firecracker's before/after-start rules,
 * what lands in struct vm_config, GET /vm/config, and the config file (the same JSON back in). */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "api/api.h"
#include "check.h"

struct fake_vmm {
	int starts, pauses, resumes, ctrl_alt_dels;
	enum api_vm_state state;
	bool fail_start;
};

static int fake_start(void *ctx, struct vm_config *cfg, struct error *err)
{
	struct fake_vmm *f = ctx;
	if (f->fail_start)
		return error_set(err, ERR_INPUT, "fake: no KVM here");
	f->starts++;
	f->state = API_VM_RUNNING;
	return 0;
}
static int fake_pause(void *ctx, struct error *err)
{
	struct fake_vmm *f = ctx;
	f->pauses++;
	f->state = API_VM_PAUSED;
	return 0;
}
static int fake_resume(void *ctx, struct error *err)
{
	struct fake_vmm *f = ctx;
	f->resumes++;
	f->state = API_VM_RUNNING;
	return 0;
}
static int fake_cad(void *ctx, struct error *err)
{
	((struct fake_vmm *)ctx)->ctrl_alt_dels++;
	return 0;
}
static enum api_vm_state fake_state(void *ctx)
{
	return ((struct fake_vmm *)ctx)->state;
}
static const struct api_ops fake_ops = {
	.instance_start = fake_start, .pause = fake_pause, .resume = fake_resume,
	.ctrl_alt_del = fake_cad, .state = fake_state,
};

static struct api_vm *vm;
static struct vm_config cfg;
static struct fake_vmm fake;
static char kernel[64], initrd[64], disk[64], disk2[64], ro_disk[64];

/* One request; checks the status and, when want is given, that the body contains it. */
static void req(const char *method, const char *path, const char *body, int status,
		const char *want)
{
	struct api_reply r;
	api_vm_handle(vm, method, path, body ? body : "", body ? strlen(body) : 0, &r);
	CHECK(r.status == status, "%s %s %s: status %d, want %d (%s)", method, path,
	      body ? body : "", r.status, status, r.body ? r.body : "");
	if (status == 204)
		CHECK(!r.body, "%s %s: 204 with a body", method, path);
	if (status >= 400)
		CHECK(r.body && !strncmp(r.body, "{\"fault_message\":\"", 18) && !strchr(r.body, '\n'),
		      "%s %s: fault without fault_message: %s", method, path, r.body);
	if (want)
		CHECK(r.body && strstr(r.body, want), "%s %s %s: body %s lacks %s", method, path,
		      body ? body : "", r.body ? r.body : "(none)", want);
	api_reply_free(&r);
}

static void fresh_vm(void)
{
	struct error err = { 0 };
	if (vm)
		api_vm_destroy(vm);
	vm_config_free(&cfg);
	CHECK(vm_config_defaults(&cfg, &err) == 0 && vm_config_set_str(&cfg.name, "unit", &err) == 0,
	      "defaults");
	fake = (struct fake_vmm){ 0 };
	vm = api_vm_create(&cfg, &fake_ops, &fake, &err);
	CHECK(vm, "api_vm_create: %s", err.msg);
}

static void put_boot(void)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"kernel_image_path\":\"%s\",\"initrd_path\":\"%s\"}", kernel,
		 initrd);
	req("PUT", "/boot-source", body, 204, NULL);
}

static void test_root_version(void)
{
	SECTION("GET / and GET /version");
	fresh_vm();
	req("GET", "/", NULL, 200, "\"state\":\"Not started\"");
	req("GET", "/", NULL, 200, "\"id\":\"unit\"");
	req("GET", "/", NULL, 200, "\"app_name\":\"hardy\"");
	req("GET", "/version", NULL, 200, "\"firecracker_version\":");
	SECTION("unknown paths and methods: 400 like Firecracker");
	req("GET", "/nope", NULL, 400, "Invalid request method and/or path");
	req("DELETE", "/", NULL, 400, "Invalid request method and/or path");
	req("POST", "/actions", "{}", 400, "Invalid request method and/or path");
	req("GET", "/boot-source", NULL, 400, "Invalid request method and/or path");
	req("PUT", "/drives", "{}", 400, "Invalid request method and/or path");
	req("PUT", "/drives/", "{}", 400, "Invalid request method and/or path");
	req("PUT", "/drives/a/b", "{}", 400, "Invalid request method and/or path");
	req("PUT", "/", "{}", 400, "Invalid request method and/or path");
}

static void test_machine_config(void)
{
	SECTION("machine-config: Firecracker's defaults, PUT, PATCH, GET");
	fresh_vm();
	CHECK(cfg.ncpus == 1 && cfg.mem_size == 128ull << 20 && !cfg.rng, "API defaults");
	req("GET", "/machine-config", NULL, 200, "\"vcpu_count\":1,\"mem_size_mib\":128");
	req("PUT", "/machine-config", "{\"vcpu_count\":4,\"mem_size_mib\":256}", 204, NULL);
	CHECK(cfg.ncpus == 4 && cfg.mem_size == 256ull << 20, "PUT reached the config");
	req("PATCH", "/machine-config", "{\"mem_size_mib\":512}", 204, NULL);
	CHECK(cfg.ncpus == 4 && cfg.mem_size == 512ull << 20, "PATCH kept vcpu_count");
	req("PUT", "/machine-config",
	    "{\"vcpu_count\":2,\"mem_size_mib\":128,\"smt\":false,\"track_dirty_pages\":false,"
	    "\"cpu_template\":\"None\",\"huge_pages\":\"None\"}", 204, NULL);
	req("GET", "/machine-config", NULL, 200, "\"vcpu_count\":2,\"mem_size_mib\":128,\"smt\":false");
	SECTION("machine-config refused");
	req("PUT", "/machine-config", "{\"vcpu_count\":2}", 400, "missing field `mem_size_mib`");
	req("PUT", "/machine-config", "{\"mem_size_mib\":128}", 400, "missing field `vcpu_count`");
	req("PUT", "/machine-config", "{\"vcpu_count\":0,\"mem_size_mib\":128}", 400, "vcpu_count");
	req("PUT", "/machine-config", "{\"vcpu_count\":256,\"mem_size_mib\":128}", 400, "vcpu_count");
	req("PUT", "/machine-config", "{\"vcpu_count\":-1,\"mem_size_mib\":128}", 400, "negative");
	req("PUT", "/machine-config", "{\"vcpu_count\":1.5,\"mem_size_mib\":128}", 400, "integer");
	req("PUT", "/machine-config", "{\"vcpu_count\":\"2\",\"mem_size_mib\":128}", 400, "integer");
	req("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":1}", 400, "at least");
	req("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":18446744073709551615}",
	    400, "mem_size_mib");
	req("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":99999999999999999999}",
	    400, NULL);
	req("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":true}", 400,
	    "smt");
	req("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":1}", 400,
	    "true or false");
	req("PUT", "/machine-config",
	    "{\"vcpu_count\":1,\"mem_size_mib\":128,\"track_dirty_pages\":true}", 400, "dirty");
	req("PUT", "/machine-config",
	    "{\"vcpu_count\":1,\"mem_size_mib\":128,\"cpu_template\":\"T2\"}", 400, "cpu_template");
	req("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128,\"x\":1}", 400,
	    "unknown field `x`");
	req("PATCH", "/machine-config", "{\"vcpus\":1}", 400, "unknown field `vcpus`");
	CHECK(cfg.ncpus == 2 && cfg.mem_size == 128ull << 20, "refused requests changed nothing");
}

static void test_malformed(void)
{
	SECTION("malformed bodies");
	fresh_vm();
	req("PUT", "/machine-config", NULL, 400, "JSON body");
	req("PUT", "/machine-config", "{", 400, "malformed JSON");
	req("PUT", "/machine-config", "{\"vcpu_count\":1,}", 400, "malformed JSON");
	req("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128} x", 400, "malformed JSON");
	req("PUT", "/machine-config", "[1,2]", 400, "expected a JSON object");
	req("PUT", "/machine-config", "null", 400, "expected a JSON object");
	req("PUT", "/machine-config", "\"str\"", 400, "expected a JSON object");
	req("PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128}\n", 204, NULL);
	struct api_reply r;
	api_vm_handle(vm, "PUT", "/boot-source", "{\"kernel_image_path\":\"a\0b\"}", 27, &r);
	CHECK(r.status == 400, "NUL inside a string: %d %s", r.status, r.body);
	api_reply_free(&r);
	char deep[200];
	memset(deep, '[', sizeof(deep));
	api_vm_handle(vm, "PUT", "/entropy", deep, sizeof(deep), &r);
	CHECK(r.status == 400, "deep nesting: %d", r.status);
	api_reply_free(&r);
}

static void test_boot_source(void)
{
	SECTION("boot-source");
	fresh_vm();
	req("PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", 400, "boot source");
	put_boot();
	CHECK(!strcmp(cfg.kernel_path, kernel) && !strcmp(cfg.initrd_path, initrd), "paths");
	CHECK(!strcmp(cfg.cmdline, HARDY_DEFAULT_CMDLINE), "default command line: %s", cfg.cmdline);
	char body[256];
	snprintf(body, sizeof(body), "{\"kernel_image_path\":\"%s\",\"boot_args\":\"console=ttyS0 x=1\"}",
		 kernel);
	req("PUT", "/boot-source", body, 204, NULL);
	CHECK(!cfg.initrd_path && !strcmp(cfg.cmdline, "console=ttyS0 x=1"), "boot_args: %s",
	      cfg.cmdline);
	SECTION("boot-source refused");
	req("PUT", "/boot-source", "{}", 400, "missing field `kernel_image_path`");
	req("PUT", "/boot-source", "{\"kernel_image_path\":\"/nonexistent/k\"}", 400, "cannot read");
	req("PUT", "/boot-source", "{\"kernel_image_path\":\"\"}", 400, "empty");
	req("PUT", "/boot-source", "{\"kernel_image_path\":7}", 400, "expected a string");
	snprintf(body, sizeof(body), "{\"kernel_image_path\":\"%s\",\"initrd_path\":\"/no/i\"}",
		 kernel);
	req("PUT", "/boot-source", body, 400, "initrd_path");
	snprintf(body, sizeof(body), "{\"kernel_image_path\":\"%s\",\"boot_argz\":\"\"}", kernel);
	req("PUT", "/boot-source", body, 400, "unknown field `boot_argz`");
	CHECK(!strcmp(cfg.cmdline, "console=ttyS0 x=1"), "refused requests changed nothing");
}

static void test_drives(void)
{
	SECTION("drives: order, root device, command line");
	fresh_vm();
	put_boot();
	char body[512];
	snprintf(body, sizeof(body), "{\"drive_id\":\"data\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":false}", disk2);
	req("PUT", "/drives/data", body, 204, NULL);
	snprintf(body, sizeof(body), "{\"drive_id\":\"rootfs\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":true,\"is_read_only\":true,\"cache_type\":\"Writeback\","
		 "\"io_engine\":\"Async\"}", ro_disk);
	req("PUT", "/drives/rootfs", body, 204, NULL);
	CHECK(cfg.nr_disks == 2 && !strcmp(cfg.disks[0].path, ro_disk) && cfg.disks[0].readonly &&
	      !strcmp(cfg.disks[1].path, disk2) && !cfg.disks[1].readonly, "root drive first");
	CHECK(cfg.disks[0].id && !strcmp(cfg.disks[0].id, "rootfs"), "drive_id as the serial");
	CHECK(strstr(cfg.cmdline, " root=/dev/vda ro"), "root= added: %s", cfg.cmdline);
	snprintf(body, sizeof(body), "{\"drive_id\":\"rootfs\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":true,\"partuuid\":\"0eaa91a0-01\"}", disk);
	req("PUT", "/drives/rootfs", body, 204, NULL);
	CHECK(cfg.nr_disks == 2 && !strcmp(cfg.disks[0].path, disk), "replaced in place");
	CHECK(strstr(cfg.cmdline, " root=PARTUUID=0eaa91a0-01 rw"), "partuuid: %s", cfg.cmdline);
	snprintf(body, sizeof(body), "{\"drive_id\":\"rootfs\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":false}", disk);
	req("PUT", "/drives/rootfs", body, 204, NULL);
	CHECK(!strstr(cfg.cmdline, "root="), "no root, no root=: %s", cfg.cmdline);
	SECTION("drives refused");
	snprintf(body, sizeof(body), "{\"drive_id\":\"r2\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":true}", disk);
	req("PUT", "/drives/r2", body, 204, NULL);
	snprintf(body, sizeof(body), "{\"drive_id\":\"r3\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":true}", disk2);
	req("PUT", "/drives/r3", body, 400, "A root block device already exists!");
	req("PUT", "/drives/other", body, 400, "does not match");
	snprintf(body, sizeof(body), "{\"drive_id\":\"a-b\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":false}", disk2);
	req("PUT", "/drives/a-b", body, 400, "letters, digits");
	req("PUT", "/drives/x", "{\"drive_id\":\"x\",\"is_root_device\":false}", 400,
	    "missing field `path_on_host`");
	req("PUT", "/drives/x", "{\"drive_id\":\"x\",\"path_on_host\":\"/no/such\","
	    "\"is_root_device\":false}", 400, "cannot open");
	snprintf(body, sizeof(body), "{\"drive_id\":\"x\",\"path_on_host\":\"%s\"}", disk2);
	req("PUT", "/drives/x", body, 400, "missing field `is_root_device`");
	snprintf(body, sizeof(body), "{\"drive_id\":\"x\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":false,\"cache_type\":\"Fast\"}", disk2);
	req("PUT", "/drives/x", body, 400, "cache_type");
	snprintf(body, sizeof(body), "{\"drive_id\":\"x\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":false,\"io_engine\":\"Uring\"}", disk2);
	req("PUT", "/drives/x", body, 400, "io_engine");
	snprintf(body, sizeof(body), "{\"drive_id\":\"x\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":false,\"rate_limiter\":{\"bandwidth\":{}}}", disk2);
	req("PUT", "/drives/x", body, 400, "rate limiters");
	snprintf(body, sizeof(body), "{\"drive_id\":\"x\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":false,\"rate_limiter\":null,\"socket\":null}", disk2);
	req("PUT", "/drives/x", body, 204, NULL);
	snprintf(body, sizeof(body), "{\"drive_id\":\"y\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":false,\"is_read_only\":false}", ro_disk);
	if (geteuid() != 0) /* root may write a 0444 file */
		req("PUT", "/drives/y", body, 400, "for writing");
	req("PATCH", "/drives/x", "{\"drive_id\":\"x\"}", 400, "before starting");
	unsigned n = cfg.nr_disks;
	for (unsigned i = n; i < HARDY_MAX_DISKS; i++) {
		char id[8];
		snprintf(id, sizeof(id), "d%u", i);
		snprintf(body, sizeof(body), "{\"drive_id\":\"%s\",\"path_on_host\":\"%s\","
			 "\"is_root_device\":false,\"is_read_only\":true}", id, disk2);
		char path[16];
		snprintf(path, sizeof(path), "/drives/%s", id);
		req("PUT", path, body, 204, NULL);
	}
	snprintf(body, sizeof(body), "{\"drive_id\":\"z\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":false}", disk2);
	req("PUT", "/drives/z", body, 400, "at most 8");
}

static void test_ifaces(void)
{
	SECTION("network-interfaces: TAP, user, MACs");
	fresh_vm();
	req("PUT", "/network-interfaces/eth0",
	    "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"AA:FC:00:00:00:01\"}",
	    204, NULL);
	req("PUT", "/network-interfaces/eth1",
	    "{\"iface_id\":\"eth1\",\"host_dev_name\":\"user\",\"hostfwd\":[\"tcp::8022-:22\"]}",
	    204, NULL);
	CHECK(cfg.nr_nets == 2 && cfg.nets[0].kind == NET_TAP && !strcmp(cfg.nets[0].ifname, "tap0") &&
	      cfg.nets[0].mac[0] == 0xAA && cfg.nets[0].mac[5] == 1, "TAP NIC");
	CHECK(cfg.nets[1].kind == NET_USER && cfg.nets[1].nr_fwd == 1 &&
	      cfg.nets[1].fwd[0].host_port == 8022 && cfg.nets[1].mac[5] == 0x57, "user NIC");
	req("PUT", "/network-interfaces/eth0",
	    "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap9\"}", 204, NULL);
	CHECK(cfg.nr_nets == 2 && !strcmp(cfg.nets[0].ifname, "tap9") && cfg.nets[0].mac[5] == 0x56,
	      "replaced, default MAC");
	SECTION("network-interfaces refused");
	req("PUT", "/network-interfaces/eth2", "{\"iface_id\":\"eth2\",\"host_dev_name\":\"tap9\"}",
	    400, "is used by");
	req("PUT", "/network-interfaces/eth2", "{\"iface_id\":\"eth2\"}", 400,
	    "missing field `host_dev_name`");
	req("PUT", "/network-interfaces/eth2",
	    "{\"iface_id\":\"eth2\",\"host_dev_name\":\"tap2\",\"guest_mac\":\"zz\"}", 400, "mac");
	req("PUT", "/network-interfaces/eth2",
	    "{\"iface_id\":\"eth2\",\"host_dev_name\":\"tap2\",\"guest_mac\":\"01:00:00:00:00:01\"}",
	    400, "unicast");
	req("PUT", "/network-interfaces/eth2",
	    "{\"iface_id\":\"eth2\",\"host_dev_name\":\"averyveryverylongname\"}", 400,
	    "host_dev_name");
	req("PUT", "/network-interfaces/eth2",
	    "{\"iface_id\":\"eth2\",\"host_dev_name\":\"tap2\",\"hostfwd\":[\"tcp::1-:2\"]}", 400,
	    "only with");
	req("PUT", "/network-interfaces/eth2",
	    "{\"iface_id\":\"eth2\",\"host_dev_name\":\"user\",\"hostfwd\":[\"bogus\"]}", 400,
	    "hostfwd");
	req("PUT", "/network-interfaces/eth2",
	    "{\"iface_id\":\"eth2\",\"host_dev_name\":\"user\",\"hostfwd\":\"tcp::1-:2\"}", 400,
	    "array");
	req("PUT", "/network-interfaces/eth2",
	    "{\"iface_id\":\"eth2\",\"host_dev_name\":\"tap2\",\"rx_rate_limiter\":{}}", 400,
	    "rate limiters");
	req("PUT", "/network-interfaces/eth2",
	    "{\"iface_id\":\"eth2\",\"host_dev_name\":\"tap2\",\"mtu\":1500}", 400, "unknown field");
	CHECK(cfg.nr_nets == 2, "refused requests added nothing");
}

static void test_vsock_entropy_logger_metrics(void)
{
	SECTION("vsock, entropy");
	fresh_vm();
	req("PUT", "/vsock", "{\"guest_cid\":3,\"uds_path\":\"/tmp/v.sock\"}", 204, NULL);
	req("PUT", "/vsock", "{\"vsock_id\":\"vsock0\",\"guest_cid\":7,\"uds_path\":\"/tmp/v.sock\"}",
	    204, NULL);
	req("GET", "/vm/config", NULL, 200, "\"vsock\":{\"vsock_id\":\"vsock0\",\"guest_cid\":7");
	req("PUT", "/vsock", "{\"guest_cid\":2,\"uds_path\":\"/tmp/v.sock\"}", 400, "guest_cid");
	req("PUT", "/vsock", "{\"guest_cid\":4294967295,\"uds_path\":\"/tmp/v.sock\"}", 400,
	    "guest_cid");
	req("PUT", "/vsock", "{\"guest_cid\":3}", 400, "missing field `uds_path`");
	req("PUT", "/vsock", "{\"guest_cid\":3,\"uds_path\":\"\"}", 400, "uds_path");
	req("PUT", "/entropy", "{}", 204, NULL);
	CHECK(cfg.rng, "PUT /entropy adds the rng");
	req("PUT", "/entropy", "{\"rate_limiter\":{\"ops\":{}}}", 400, "rate limiters");
	req("PUT", "/entropy", "{\"x\":1}", 400, "unknown field");

	SECTION("logger and metrics write where they are told");
	char log_path[64], metrics_path[64], body[256];
	check_write_tmp("", 0, log_path);
	check_write_tmp("", 0, metrics_path);
	req("PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", 400, "metrics");
	req("PUT", "/logger", "{\"level\":\"Loud\"}", 400, "level");
	snprintf(body, sizeof(body), "{\"log_path\":\"%s\",\"level\":\"debug\",\"show_level\":true}",
		 log_path);
	req("PUT", "/logger", body, 204, NULL);
	req("PUT", "/logger", body, 400, "already");
	req("PUT", "/metrics", "{\"metrics_path\":\"/nonexistent/dir/m\"}", 400, "cannot open");
	snprintf(body, sizeof(body), "{\"metrics_path\":\"%s\"}", metrics_path);
	req("PUT", "/metrics", body, 204, NULL);
	req("PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", 204, NULL);
	char buf[4096] = "";
	int fd = open(metrics_path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0, "metrics written");
	close(fd);
	CHECK(strstr(buf, "\"utc_timestamp_ms\":") && strstr(buf, "\"requests\":"), "metrics: %s",
	      buf);
	memset(buf, 0, sizeof(buf));
	fd = open(log_path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0, "log written");
	close(fd);
	CHECK(strstr(buf, "PUT /metrics: 204") && strstr(buf, ":Warning] PUT /metrics: 400"),
	      "log: %s", buf);
	unlink(log_path);
	unlink(metrics_path);
}

static void test_lifecycle(void)
{
	SECTION("actions and PATCH /vm, before and after InstanceStart");
	fresh_vm();
	req("PATCH", "/vm", "{\"state\":\"Paused\"}", 400, "before starting");
	req("PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", 400, "not running");
	req("PUT", "/actions", "{\"action_type\":\"Reboot\"}", 400, "unknown action");
	req("PUT", "/actions", "{}", 400, "missing field `action_type`");
	put_boot();
	fake.fail_start = true;
	req("PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", 400, "fake: no KVM here");
	req("GET", "/", NULL, 200, "Not started");
	fake.fail_start = false;
	req("PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", 204, NULL);
	CHECK(fake.starts == 1, "instance_start called once");
	req("GET", "/", NULL, 200, "\"state\":\"Running\"");
	req("PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", 400, "already running");
	req("PATCH", "/vm", "{\"state\":\"Paused\"}", 204, NULL);
	req("GET", "/", NULL, 200, "\"state\":\"Paused\"");
	req("PATCH", "/vm", "{\"state\":\"Resumed\"}", 204, NULL);
	req("GET", "/", NULL, 200, "\"state\":\"Running\"");
	req("PATCH", "/vm", "{\"state\":\"Stopped\"}", 400, "state");
	CHECK(fake.pauses == 1 && fake.resumes == 1, "pause/resume called");
	req("PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", 204, NULL);
	CHECK(fake.ctrl_alt_dels == 1, "ctrl_alt_del called");
	SECTION("after start: configuration is refused, GETs answer");
	const char *after = "not supported after starting the microVM";
	req("PUT", "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":128}", 400, after);
	req("PATCH", "/machine-config", "{\"vcpu_count\":2}", 400, after);
	req("PUT", "/boot-source", "{\"kernel_image_path\":\"/x\"}", 400, after);
	req("PUT", "/drives/a", "{}", 400, after);
	req("PUT", "/network-interfaces/a", "{}", 400, after);
	req("PUT", "/vsock", "{}", 400, after);
	req("PUT", "/entropy", "{}", 400, after);
	req("PUT", "/logger", "{}", 400, after);
	req("PUT", "/metrics", "{}", 400, after);
	req("GET", "/machine-config", NULL, 200, "\"vcpu_count\":1");
	req("GET", "/vm/config", NULL, 200, "\"boot-source\":{");
	req("PATCH", "/drives/nope", "{\"drive_id\":\"nope\"}", 400, "no drive");
	req("PATCH", "/network-interfaces/nope", "{\"iface_id\":\"nope\"}", 400, "no network");
}

static void test_config_file(void)
{
	SECTION("config file: GET /vm/config read back gives the same config");
	fresh_vm();
	put_boot();
	char body[512];
	snprintf(body, sizeof(body), "{\"drive_id\":\"rootfs\",\"path_on_host\":\"%s\","
		 "\"is_root_device\":true,\"is_read_only\":true}", ro_disk);
	req("PUT", "/drives/rootfs", body, 204, NULL);
	req("PUT", "/machine-config", "{\"vcpu_count\":3,\"mem_size_mib\":200}", 204, NULL);
	req("PUT", "/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"host_dev_name\":\"user\","
	    "\"hostfwd\":[\"tcp::2222-:22\"]}", 204, NULL);
	req("PUT", "/entropy", "{}", 204, NULL);
	struct api_reply r;
	api_vm_handle(vm, "GET", "/vm/config", "", 0, &r);
	CHECK(r.status == 200 && r.body, "GET /vm/config");
	char *doc = strdup(r.body);
	api_reply_free(&r);
	uint64_t first_mem = cfg.mem_size;
	char first_cmdline[512];
	snprintf(first_cmdline, sizeof(first_cmdline), "%s", cfg.cmdline);

	fresh_vm();
	struct error err = { 0 };
	CHECK(api_vm_load_config(vm, doc, strlen(doc), &err) == 0, "load: %s", err.msg);
	CHECK(cfg.ncpus == 3 && cfg.mem_size == first_mem && cfg.rng && cfg.nr_disks == 1 &&
	      cfg.disks[0].readonly && cfg.nr_nets == 1 && cfg.nets[0].nr_fwd == 1 &&
	      !strcmp(cfg.cmdline, first_cmdline) && !strcmp(cfg.kernel_path, kernel),
	      "the same config from the file");
	api_vm_handle(vm, "GET", "/vm/config", "", 0, &r);
	CHECK(r.status == 200 && !strcmp(r.body, doc), "the same JSON again:\n%s\n%s", r.body, doc);
	api_reply_free(&r);
	CHECK(api_vm_instance_start(vm, &err) == 0 && fake.starts == 1, "start: %s", err.msg);
	free(doc);

	SECTION("config file refused, with the section named");
	struct { const char *json, *want; } bad[] = {
		{ "{", "malformed JSON" },
		{ "[]", "expected a JSON object" },
		{ "{\"boot_source\":{}}", "unknown field `boot_source`" },
		{ "{\"machine-config\":{\"vcpu_count\":1}}", "machine-config: missing field `mem_size_mib`" },
		{ "{\"drives\":{}}", "drives: expected an array" },
		{ "{\"drives\":[{\"drive_id\":\"a\"}]}", "drives[0]: missing field `path_on_host`" },
		{ "{\"drives\":[7]}", "drives[0]:" },
		{ "{\"network-interfaces\":[{\"iface_id\":\"e\",\"host_dev_name\":\"\"}]}",
		  "network-interfaces[0]: host_dev_name" },
		{ "{\"balloon\":{\"amount_mib\":1}}", "balloon" },
		{ "{\"vsock\":{\"guest_cid\":1,\"uds_path\":\"/x\"}}", "vsock: guest_cid" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh_vm();
		err = (struct error){ 0 };
		CHECK(api_vm_load_config(vm, bad[i].json, strlen(bad[i].json), &err) < 0 &&
		      err.status == ERR_INPUT && strstr(err.msg, bad[i].want) && !strchr(err.msg, '\n'),
		      "config %s: %s", bad[i].json, err.msg);
	}
	fresh_vm();
	err = (struct error){ 0 };
	CHECK(api_vm_load_config(vm, "{}", 2, &err) == 0 && api_vm_instance_start(vm, &err) < 0 &&
	      strstr(err.msg, "boot source"), "no boot-source: %s", err.msg);
	err = (struct error){ 0 };
	CHECK(api_vm_load_config_file(vm, "/nonexistent.json", &err) < 0 &&
	      err.status == ERR_INPUT, "missing file");
}

int main(void)
{
	check_write_tmp("kernel", 6, kernel);
	check_write_tmp("initrd", 6, initrd);
	check_write_tmp("", 0, disk);
	check_write_tmp("", 0, disk2);
	check_write_tmp("", 0, ro_disk);
	chmod(ro_disk, 0444);
	test_root_version();
	test_machine_config();
	test_malformed();
	test_boot_source();
	test_drives();
	test_ifaces();
	test_vsock_entropy_logger_metrics();
	test_lifecycle();
	test_config_file();
	api_vm_destroy(vm);
	vm_config_free(&cfg);
	unlink(kernel);
	unlink(initrd);
	unlink(disk);
	unlink(disk2);
	unlink(ro_disk);
	printf("test_api: ok\n");
	return 0;
}
