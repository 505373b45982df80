/* The host entropy source: getrandom(2), which never blocks once the host's pool is ready
 * (long before a VM runs) and fails rather than returning weak bytes. */
#include "backends/entropy.h"

#include <errno.h>
#include <sys/random.h>

static ssize_t entropy_getrandom(void *ctx, void *buf, size_t len)
{
	ssize_t n;
	do
		n = getrandom(buf, len, GRND_NONBLOCK);
	while (n < 0 && errno == EINTR);
	return n;
}

struct entropy_source entropy_host(void)
{
	return (struct entropy_source){ .read = entropy_getrandom };
}
