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
	puts("test_cli_parse: all passed");
	return 0;
}
