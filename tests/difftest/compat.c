/* Judging the compatibility-mode tests: against the host CPU where it runs 32-bit code (and
 * re-checking the recorded reference there, recording a new one if asked), else against the
 * reference; the summary says which, and counts what could not be judged. */
#include <stdio.h>

#include "difftest.h"

static const char rerecord_hint[] = "re-record it with make difftest-reference "
				    "(tests/difftest/record-reference.sh)";

const struct dt_result *dt_compat_expected(struct dt_compat *c, const struct dt_test *t,
					   struct dt_result *native, bool verbose, unsigned *printed)
{
	bool have = c->ref && dt_ref_lookup(c->ref, t, &c->expected);
	if (!have && c->ref && c->ref_generation) {
		char name[64];
		c->stale++;
		if (c->stale <= 10)
			printf("STALE REFERENCE: %s has no record of a %s test (key %016llx)\n",
			       c->ref_path, dt_form_name(t->form, name, sizeof(name)),
			       (unsigned long long)dt_test_key(t));
	}
	if (c->live) {
		dt_compat_mask(&native->out);
		if (c->rec)
			dt_rec_add(c->rec, t, native);
		if (have) {
			c->rechecked++;
			if (!dt_compare(t, &c->expected, native, "re-check", &dt_ref_vs_host, verbose,
					printed))
				c->disagree++;
		}
		return native;
	}
	if (have) {
		c->from_ref++;
		return &c->expected;
	}
	if (!c->ref || !c->ref_generation)
		c->not_run++;
	return NULL;
}

bool dt_compat_report(struct dt_compat *c)
{
	bool ok = !c->disagree && !c->stale;
	if (c->live) {
		printf("difftest: compat-mode forms: against the host CPU");
		if (c->ref)
			printf(" (%llu tests re-checked against %s: %llu disagree)", c->rechecked,
			       c->ref_path, c->disagree);
		else
			printf(" (no --reference to re-check)");
		printf("\n");
		if (c->disagree)
			printf("difftest: the host CPU disagrees with the recorded reference %s: it is "
			       "wrong or stale: %s\n", c->ref_path, rerecord_hint);
	} else if (c->ref) {
		printf("difftest: compat-mode forms: against the recorded reference %s (recorded on "
		       "%s): the host cannot run 32-bit code; %llu compat tests compared with the "
		       "recorded reference\n", c->ref_path, dt_ref_origin(c->ref), c->from_ref);
	} else {
		printf("difftest: compat-mode forms: the host cannot run 32-bit code and no "
		       "--reference was given\n");
	}
	if (c->not_run)
		printf("difftest: %llu generated compat tests not run: not in the reference and "
		       "the host cannot run 32-bit code\n", c->not_run);
	if (c->ref && c->ref_generation) {
		unsigned unused = dt_ref_unused(c->ref);
		if (unused) {
			printf("difftest: %u records of %s match no generated test\n", unused,
			       c->ref_path);
			ok = false;
		}
		if (c->stale || unused)
			printf("difftest: the reference is stale (%llu generated compat tests have no "
			       "record): %s\n", c->stale, rerecord_hint);
	}
	if (c->rec) {
		long n = dt_rec_finish(c->rec);
		c->rec = NULL;
		if (n < 0) {
			printf("difftest: cannot write %s\n", c->rec_path);
			return false;
		}
		printf("difftest: recorded %ld compat tests' host results in %s\n", n, c->rec_path);
	}
	return ok;
}
