/* --soft-profile: where the soft CPU's guest spends its instructions (soft_profile.c). Each vCPU
 * samples the guest address it is at every SOFT_PROFILE_PERIOD instructions into its own
 * table (no locks on the vCPU's path); at the end the tables are merged and the hottest
 * addresses written out. */
#ifndef HARDY_ACCEL_SOFT_PROFILE_H
#define HARDY_ACCEL_SOFT_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#define SOFT_PROFILE_PERIOD 1000 /* instructions between samples */

struct soft_profile; /* one vCPU's samples */

struct soft_profile *soft_profile_create(void);
void soft_profile_destroy(struct soft_profile *p);
/* One sample at guest address rip (linear) with privilege level cpl. */
void soft_profile_sample(struct soft_profile *p, uint64_t rip, unsigned cpl);
/* Merges the vCPUs' tables and writes the hottest addresses to out. */
void soft_profile_write(struct soft_profile *const *per_vcpu, unsigned n, FILE *out);

#endif
