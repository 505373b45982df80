/* Where control sockets live and how a name is claimed: one Unix socket per VM,
 * RUNDIR/NAME.sock, with RUNDIR $XDG_RUNTIME_DIR/hardy (/run/hardy for root; $HARDY_RUNTIME_DIR
 * overrides both, for tests). The directory is 0700 and the sockets 0600: only their owner
 * reaches them. A name is held by an flock on RUNDIR/NAME.lock for the life of the process, so
 * two VMs cannot take one name and a socket whose lock is free is stale (its VM died). */
#ifndef HARDY_VMM_CTL_DIR_H
#define HARDY_VMM_CTL_DIR_H

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

#define CTL_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */

/* The runtime directory into buf, created (0700) when create is set; ERR_RUNTIME when it cannot
 * be made or is not this user's alone. */
int ctl_dir(char *buf, size_t len, int create, struct error *err);
/* RUNDIR/NAME.sock into buf; ERR_INPUT when it does not fit a socket address. */
int ctl_sock_path(const char *dir, const char *name, char *buf, size_t len, struct error *err);

/* Claims name: takes its lock, removes a stale socket, binds and listens (non-blocking,
 * close-on-exec, mode 0600). Returns the listening descriptor and sets *lock_fd (kept open
 * for the process's life); ERR_INPUT "a VM named NAME is running (pid N)" when it is taken. */
int ctl_claim(const char *dir, const char *name, int *lock_fd, struct error *err);
/* Removes the socket and lock of a name this process holds. */
void ctl_release(const char *dir, const char *name, int listen_fd, int lock_fd);

/* Connects to NAME's socket: the connected descriptor with the server's pid in *pid, or -1
 * (errno set) when nothing answers; a dead VM's socket and lock are removed on the way. */
int ctl_connect(const char *dir, const char *name, pid_t *pid);

#endif
