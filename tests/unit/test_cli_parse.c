/* Unit test: CLI value parsing (sizes with suffixes, counts) and vm_config validation. */
#include <stdint.h>

#include "check.h"
#include "cli/parse.h"
#include "vm/config.h"

static void check_size(const char *s, int want_rc, uint64_t want)
{
	uint64_t v = 0;
	int rc = parse_size(s, &v);
	CHECK(rc == want_rc, "parse_size(\"%s\") returned %d", s, rc);
	if (rc == 0)
		CHECK(v == want, "parse_size(\"%s\") = %llu, want %llu", s,
		      (unsigned long long)v, (unsigned long long)want);
}

int main(void)
{
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
