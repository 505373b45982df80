/* Unit test: CLI value parsing (sizes with suffixes, counts, --disk and --net values) and
 * vm_config validation. */
#include <arpa/inet.h>
#include <stdint.h>

#include "check.h"
#include "cli/parse.h"
#include "core/config.h"

static void check_size(const char *s, int want_rc, uint64_t want)
{
	uint64_t v = 0;
	int rc = parse_size(s, &v);
	CHECK(rc == want_rc, "parse_size(\"%s\") returned %d", s, rc);
	if (rc == 0)
		CHECK(v == want, "parse_size(\"%s\") = %llu, want %llu", s,
		      (unsigned long long)v, (unsigned long long)want);
}

static void check_disk(const char *spec, int want_rc, const char *path, bool ro, const char *id)
{
	char buf[128], problem[96] = "";
	snprintf(buf, sizeof(buf), "%s", spec);
	struct vm_disk_config d;
	int rc = parse_disk(buf, &d, problem, sizeof(problem));
	CHECK(rc == want_rc, "--disk '%s': rc %d (%s)", spec, rc, problem);
	if (rc < 0) {
		CHECK(problem[0] && !strchr(problem, '\n'), "--disk '%s': no one-line reason", spec);
		return;
	}
	CHECK(!strcmp(d.path, path) && d.readonly == ro &&
	      (id ? d.id && !strcmp(d.id, id) : !d.id), "--disk '%s' parsed wrong", spec);
}

static void check_vsock(const char *spec, int want_rc, uint64_t cid, const char *path)
{
	char buf[160], problem[96] = "";
	snprintf(buf, sizeof(buf), "%s", spec);
	struct vm_vsock_config v;
	int rc = parse_vsock(buf, &v, problem, sizeof(problem));
	CHECK(rc == want_rc, "--vsock '%s': rc %d (%s)", spec, rc, problem);
	if (rc < 0) {
		CHECK(problem[0] && !strchr(problem, '\n'), "--vsock '%s': no one-line reason", spec);
		return;
	}
	CHECK(v.enabled && v.cid == cid && !strcmp(v.uds_path, path), "--vsock '%s' parsed wrong", spec);
}

static void test_vsock(void)
{
	SECTION("--vsock cid=N,uds=PATH");
	check_vsock("cid=3,uds=/tmp/v.sock", 0, 3, "/tmp/v.sock");
	check_vsock("uds=/tmp/v.sock,cid=4294967294", 0, 4294967294u, "/tmp/v.sock");
	check_vsock("cid=2,uds=/tmp/v.sock", -1, 0, NULL);
	check_vsock("cid=4294967295,uds=/tmp/v.sock", -1, 0, NULL);
	check_vsock("cid=-3,uds=/tmp/v.sock", -1, 0, NULL);
	check_vsock("cid=3x,uds=/tmp/v.sock", -1, 0, NULL);
	check_vsock("cid=3", -1, 0, NULL);
	check_vsock("uds=/tmp/v.sock", -1, 0, NULL);
	check_vsock("cid=3,uds=", -1, 0, NULL);
	check_vsock("cid=3,uds=/tmp/v.sock,x=1", -1, 0, NULL);
	/* PATH_4294967295 must fit sun_path: 96 bytes at most. */
	char path[100] = "/tmp/", spec[120];
	memset(path + 5, 'x', 91);
	snprintf(spec, sizeof(spec), "cid=3,uds=%s", path);
	check_vsock(spec, 0, 3, path);
	snprintf(spec, sizeof(spec), "cid=3,uds=%sx", path);
	check_vsock(spec, -1, 0, NULL);
}

static void test_disks(void)
{
	SECTION("--disk PATH[,ro][,id=ID][,aio=io_uring|sync]");
	check_disk("a.img", 0, "a.img", false, NULL);
	check_disk("/x/a.img,ro", 0, "/x/a.img", true, NULL);
	check_disk("a.img,id=root", 0, "a.img", false, "root");
	check_disk("a.img,id=abcdefghijklmnopqrst,ro", 0, "a.img", true, "abcdefghijklmnopqrst");
	SECTION("--disk values refused");
	check_disk("", -1, NULL, false, NULL);
	check_disk(",ro", -1, NULL, false, NULL);
	check_disk("a.img,", -1, NULL, false, NULL);
	check_disk("a.img,rw", -1, NULL, false, NULL);
	check_disk("a.img,id=", -1, NULL, false, NULL);
	check_disk("a.img,id=abcdefghijklmnopqrstu", -1, NULL, false, NULL);
	check_disk("a.img,id=a b", -1, NULL, false, NULL);
	check_disk("a.img,id=\x01", -1, NULL, false, NULL);
	check_disk("a.img,aio=threads", -1, NULL, false, NULL);
	check_disk("a.img,aio=", -1, NULL, false, NULL);
	SECTION("--disk aio=");
	char buf[64] = "a.img,aio=sync,ro", problem[96] = "";
	struct vm_disk_config d;
	CHECK(parse_disk(buf, &d, problem, sizeof(problem)) == 0 && d.aio_sync && d.readonly,
	      "aio=sync: %s", problem);
	snprintf(buf, sizeof(buf), "a.img,aio=io_uring");
	CHECK(parse_disk(buf, &d, problem, sizeof(problem)) == 0 && !d.aio_sync, "aio=io_uring: %s",
	      problem);
}

static struct vm_net_config check_net(const char *spec, unsigned index, int want_rc)
{
	char buf[256], problem[160] = "";
	struct vm_net_config n;
	snprintf(buf, sizeof(buf), "%s", spec);
	int rc = parse_net(buf, index, &n, problem, sizeof(problem));
	CHECK(rc == want_rc, "--net '%s': rc %d (%s)", spec, rc, problem);
	if (rc < 0)
		CHECK(problem[0] && !strchr(problem, '\n'), "--net '%s': no one-line reason", spec);
	return n;
}

static void test_nets(void)
{
	SECTION("--net user[,hostfwd=...][,mac=] and tap=IFNAME[,mac=]");
	struct vm_net_config n = check_net("user", 0, 0);
	CHECK(n.kind == NET_USER && n.nr_fwd == 0 && n.mac[0] == 0x52 && n.mac[5] == 0x56,
	      "user: defaults");
	n = check_net("user", 3, 0);
	CHECK(n.mac[5] == 0x59, "fourth NIC's default MAC ends %02x", n.mac[5]);
	n = check_net("user,hostfwd=tcp::8080-:80,hostfwd=udp:127.0.0.1:5353-10.0.2.15:53", 0, 0);
	CHECK(n.nr_fwd == 2 && !n.fwd[0].udp && n.fwd[0].host_port == 8080 &&
	      n.fwd[0].guest_port == 80 && n.fwd[0].host_addr == 0 && n.fwd[0].guest_addr == 0,
	      "first hostfwd parsed wrong");
	CHECK(n.fwd[1].udp && n.fwd[1].host_port == 5353 && n.fwd[1].guest_port == 53 &&
	      n.fwd[1].host_addr == htonl(0x7F000001) && n.fwd[1].guest_addr == htonl(0x0A00020F),
	      "second hostfwd parsed wrong");
	n = check_net("tap=tap0,mac=02:00:00:AB:cd:01", 0, 0);
	CHECK(n.kind == NET_TAP && !strcmp(n.ifname, "tap0") && n.mac[0] == 2 && n.mac[3] == 0xAB &&
	      n.mac[4] == 0xCD && n.mac[5] == 1, "tap with mac parsed wrong");
	SECTION("--net values refused");
	const char *bad[] = {
		"", "usr", "tap", "tap=", "tap=abcdefghijklmnop", "tap=a/b", "user,", "user,x=1",
		"user,hostfwd=", "user,hostfwd=tcp:8080-:80", "user,hostfwd=tcp::8080-:", "user,hostfwd=tcp::-:80",
		"user,hostfwd=tcp::0-:80", "user,hostfwd=tcp::65536-:80", "user,hostfwd=tcp::80a-:80",
		"user,hostfwd=tcp:300.1.1.1:80-:80", "user,hostfwd=tcp::80-192.168.0.1:80",
		"user,hostfwd=icmp::80-:80", "tap=t0,hostfwd=tcp::80-:80", "user,mac=", "user,mac=01:02:03:04:05:06",
		"user,mac=00:00:00:00:00:00", "user,mac=52:54:00:12:34:56:78", "user,mac=52-54-00-12-34-56",
		"user,mac=52:54:00:12:34:5",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_net(bad[i], 0, -1);
	char many[512] = "user";
	for (int i = 0; i < HARDY_MAX_HOSTFWD + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), ",hostfwd=tcp::%d-:80", 1000 + i);
	check_net(many, 0, -1);
}

int main(void)
{
	test_disks();
	test_nets();
	SECTION("sizes with and without suffixes");
	check_size("512M", 0, 512ULL << 20);
	check_size("2G", 0, 2ULL << 30);
	check_size("2g", 0, 2ULL << 30);
	check_size("65536K", 0, 64ULL << 20);
	check_size("1GiB", 0, 1ULL << 30);
	check_size("4096", 0, 4096);
	check_size("0", 0, 0);
	SECTION("malformed sizes are refused");
	check_size("", -1, 0);
	check_size("-1M", -1, 0);
	check_size("12X", -1, 0);
	check_size("M", -1, 0);
	check_size("1.5G", -1, 0);
	check_size("99999999999999999999", -1, 0);
	check_size("17179869184G", -1, 0); /* 2^34 GiB overflows 64 bits */

	SECTION("counts");
	unsigned n;
	CHECK(parse_count("2", &n) == 0 && n == 2, "2");
	CHECK(parse_count("-2", &n) < 0, "negative count accepted");
	CHECK(parse_count("2x", &n) < 0, "junk accepted");
	CHECK(parse_count("99999999999", &n) < 0, "overflow accepted");

	SECTION("config validation");
	struct vm_config c;
	struct error err = { 0 };
	CHECK(vm_config_defaults(&c, &err) == 0, "defaults: %s", err.msg);
	CHECK(vm_config_validate(&c, &err) == 0, "defaults rejected: %s", err.msg);
	c.ncpus = 0;
	CHECK(vm_config_validate(&c, &err) < 0 && err.status == ERR_INPUT, "--cpus 0 accepted");
	CHECK(strstr(err.msg, "--cpus"), "message does not name --cpus: %s", err.msg);
	err = (struct error){ 0 };
	c.ncpus = 1;
	c.mem_size = 0;
	CHECK(vm_config_validate(&c, &err) < 0 && err.status == ERR_INPUT, "--mem 0 accepted");
	err = (struct error){ 0 };
	c.mem_size = 1ULL << 50;
	CHECK(vm_config_validate(&c, &err) < 0 && strstr(err.msg, "host"), "--mem 1P accepted");
	err = (struct error){ 0 };
	c.mem_size = HARDY_DEFAULT_MEM;
	c.ncpus = HARDY_MAX_CPUS + 1;
	CHECK(vm_config_validate(&c, &err) < 0, "too many cpus accepted");
	c.ncpus = 1;
	static const char *const bad_names[] = { "a/b", "..", ".hidden", "-x", "sp ace", "" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		err = (struct error){ 0 };
		CHECK(vm_config_set_str(&c.name, bad_names[i], &err) == 0, "set name");
		CHECK(vm_config_validate(&c, &err) < 0 && err.status == ERR_INPUT,
		      "--name '%s' accepted", bad_names[i]);
	}
	err = (struct error){ 0 };
	CHECK(vm_config_set_str(&c.name, "web-1.test_x", &err) == 0 &&
	      vm_config_validate(&c, &err) == 0, "--name web-1.test_x rejected: %s", err.msg);

	SECTION("config ownership: copies are deep, free releases all");
	CHECK(vm_config_set_str(&c.kernel_path, "/k", &err) == 0 &&
	      vm_config_add_disk(&c, &(struct vm_disk_config){ .path = (char *)"/d.img",
							     .id = (char *)"x" }, &err) == 0 &&
	      vm_config_set_vsock(&c, &(struct vm_vsock_config){ .cid = 3,
								 .uds_path = (char *)"/v" },
				  &err) == 0, "fill: %s", err.msg);
	struct vm_config copy;
	CHECK(vm_config_copy(&copy, &c, &err) == 0, "copy: %s", err.msg);
	CHECK(copy.kernel_path != c.kernel_path && !strcmp(copy.kernel_path, "/k") &&
	      copy.disks[0].path != c.disks[0].path && !strcmp(copy.disks[0].id, "x") &&
	      copy.nr_disks == 1 && copy.vsock.enabled && !strcmp(copy.vsock.uds_path, "/v") &&
	      !strcmp(copy.name, "web-1.test_x"), "copy differs");
	vm_config_free(&c);
	CHECK(!strcmp(copy.disks[0].path, "/d.img"), "copy shares the original's strings");
	for (unsigned i = 0; i < HARDY_MAX_DISKS; i++)
		if (vm_config_add_disk(&copy, &(struct vm_disk_config){ .path = (char *)"/e" },
				       &err) < 0)
			break;
	CHECK(copy.nr_disks == HARDY_MAX_DISKS && err.status == ERR_INPUT, "a ninth disk accepted");
	vm_config_free(&copy);
	CHECK(copy.nr_disks == 0 && !copy.name, "free left something");
	test_vsock();
	puts("test_cli_parse: all passed");
	return 0;
}
