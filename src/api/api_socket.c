/* The API's listening Unix socket: created for its owner only (mode 0600), a stale socket of a
 * dead process replaced, a live one refused. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api.h"

/* Whether a process accepts on the socket at addr (a full backlog counts as live). */
static bool api_socket_live(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	int rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	bool live = rc == 0 || errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return live;
}

int api_socket_listen(const char *path, struct error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (!path[0] || strlen(path) >= sizeof(addr.sun_path))
		return error_set(err, ERR_INPUT, "--api-sock '%.60s': must be 1 to %zu bytes", path,
				 sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return error_set(err, ERR_INPUT, "--api-sock %s: exists and is not a socket",
					 path);
		if (api_socket_live(&addr))
			return error_set(err, ERR_INPUT, "--api-sock %s: in use by another process",
					 path);
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return error_errno(err, "socket");
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (rc < 0) {
		error_set(err, ERR_INPUT, "--api-sock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, 64) < 0) {
		error_errno(err, "listen %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}
