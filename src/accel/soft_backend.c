/* The soft backend's entry in the table: hardy's own x86-64 CPU (src/accel/soft/) behind the
 * seam. Only its probe exists yet: the system CPU (privileged state, paging, interrupts, port
 * I/O and MMIO exits) is the next step, see docs/soft-cpu.md, "System mode". */
#include "accel/accel.h"

static int soft_probe(struct accel_caps *caps, struct error *err)
{
	return error_set(err, ERR_INPUT, "--accel soft: the soft backend is not built yet "
			 "(hardy's CPU runs user-mode programs only: hardy-cpu-run)");
}

const struct accel_ops accel_soft_ops = {
	.name = "soft",
	.probe = soft_probe,
};
