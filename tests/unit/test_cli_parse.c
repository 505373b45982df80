/* Unit test: CLI value parsing (sizes with suffixes, counts) and vm_config validation. */
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
	SECTION("--disk PATH[,ro][,id=ID]");
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
}

int main(void)
{
	test_disks();
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
	vm_config_defaults(&c);
	CHECK(vm_config_validate(&c, &err) == 0, "defaults rejected: %s", err.msg);
	c.ncpus = 0;
	CHECK(vm_config_validate(&c, &err) < 0 && err.status == ERR_INPUT, "--cpus 0 accepted");
	CHECK(strstr(err.msg, "--cpus"), "message does not name --cpus: %s", err.msg);
	err = (struct error){ 0 };
	vm_config_defaults(&c);
	c.mem_size = 0;
	CHECK(vm_config_validate(&c, &err) < 0 && err.status == ERR_INPUT, "--mem 0 accepted");
	err = (struct error){ 0 };
	c.mem_size = 1ULL << 50;
	CHECK(vm_config_validate(&c, &err) < 0 && strstr(err.msg, "host"), "--mem 1P accepted");
	err = (struct error){ 0 };
	vm_config_defaults(&c);
	c.ncpus = HARDY_MAX_CPUS + 1;
	CHECK(vm_config_validate(&c, &err) < 0, "too many cpus accepted");
	test_vsock();
	puts("test_cli_parse: all passed");
	return 0;
}
