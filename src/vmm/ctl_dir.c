/* The control sockets' directory, names, locks and stale-socket clean-up (ctl_dir.h). */
#include "vmm/ctl_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int ctl_dir(char *buf, size_t len, int create, struct error *err)
{
	const char *over = getenv("HARDY_RUNTIME_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	int n;
	if (over && over[0])
		n = snprintf(buf, len, "%s", over);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/hardy");
	else if (xdg && xdg[0])
		n = snprintf(buf, len, "%s/hardy", xdg);
	else /* no per-user runtime directory: one of our own under /tmp */
		n = snprintf(buf, len, "/tmp/hardy-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len)
		return error_set(err, ERR_INPUT, "runtime directory path too long");
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return error_errno(err, "cannot create %s", buf);
	struct stat st;
	if (stat(buf, &st) < 0) {
		if (!create && errno == ENOENT)
			return 0; /* nothing runs yet */
		return error_errno(err, "%s", buf);
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077))
		return error_set(err, ERR_RUNTIME, "%s: not a directory of this user's alone "
				 "(mode 0700 expected)", buf);
	return 0;
}

int ctl_sock_path(const char *dir, const char *name, char *buf, size_t len, struct error *err)
{
	int n = snprintf(buf, len, "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= len || (size_t)n >= CTL_PATH_MAX)
		return error_set(err, ERR_INPUT, "--name '%s': %s/%s.sock is too long for a socket",
				 name, dir, name);
	return 0;
}

static int ctl_lock_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.lock", dir, name);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static int ctl_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -1;
	strcpy(a->sun_path, path);
	return 0;
}

/* The pid of whoever serves path, or 0 when nothing answers. */
static pid_t ctl_peer_pid(const char *path)
{
	pid_t pid = 0;
	struct sockaddr_un a;
	if (ctl_addr(path, &a) < 0)
		return 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 ? cred.pid : -1;
	}
	close(fd);
	return pid;
}

int ctl_claim(const char *dir, const char *name, int *lock_fd, struct error *err)
{
	char sock[CTL_PATH_MAX + 16], lock[CTL_PATH_MAX + 16];
	if (ctl_sock_path(dir, name, sock, sizeof(sock), err) < 0 ||
	    ctl_lock_path(dir, name, lock, sizeof(lock)) < 0)
		return -1;
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0)
		return error_errno(err, "%s", lock);
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		pid_t pid = ctl_peer_pid(sock);
		close(lfd);
		if (e != EWOULDBLOCK)
			return error_errno(err, "%s", lock);
		if (pid > 0)
			return error_set(err, ERR_INPUT, "a VM named %s is running (pid %d)", name,
					 (int)pid);
		return error_set(err, ERR_INPUT, "a VM named %s is starting", name);
	}
	/* Ours now: a socket left behind belongs to a VM that died. */
	if (unlink(sock) < 0 && errno != ENOENT) {
		close(lfd);
		return error_errno(err, "cannot remove the stale %s", sock);
	}
	struct sockaddr_un a;
	ctl_addr(sock, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		close(lfd);
		return error_errno(err, "socket");
	}
	mode_t old = umask(0177); /* the socket is born 0600: no window where others reach it */
	int b = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (b < 0 || listen(fd, 128) < 0) {
		error_errno(err, "%s", sock);
		close(fd);
		close(lfd);
		return -1;
	}
	*lock_fd = lfd;
	return fd;
}

void ctl_release(const char *dir, const char *name, int listen_fd, int lock_fd)
{
	char path[CTL_PATH_MAX + 16];
	if (ctl_sock_path(dir, name, path, sizeof(path), NULL) == 0)
		unlink(path);
	if (ctl_lock_path(dir, name, path, sizeof(path)) == 0)
		unlink(path); /* while still locked: no one can have taken it */
	if (listen_fd >= 0)
		close(listen_fd);
	if (lock_fd >= 0)
		close(lock_fd);
}

/* A socket whose lock is free has no live VM behind it: remove both. */
static void ctl_clean_stale(const char *dir, const char *name, const char *sock)
{
	char lock[CTL_PATH_MAX + 16];
	if (ctl_lock_path(dir, name, lock, sizeof(lock)) < 0)
		return;
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0)
		return;
	if (flock(lfd, LOCK_EX | LOCK_NB) == 0) {
		unlink(sock);
		unlink(lock);
	}
	close(lfd);
}

int ctl_connect(const char *dir, const char *name, pid_t *pid)
{
	char sock[CTL_PATH_MAX + 16];
	struct sockaddr_un a;
	if (ctl_sock_path(dir, name, sock, sizeof(sock), NULL) < 0 || ctl_addr(sock, &a) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		if (e == ECONNREFUSED)
			ctl_clean_stale(dir, name, sock);
		errno = e;
		return -1;
	}
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	*pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 ? cred.pid : 0;
	return fd;
}
