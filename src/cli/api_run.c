/* `hardy run --api-sock PATH` and `--config-file PATH`: the VM is described through the API
 * (src/api/) instead of flags. The API server runs on its own thread with its own event loop,
 * so it answers before the VM exists and while it runs; InstanceStart (or a config file) hands
 * the filled config to this thread, which runs the VM with vm_run().
 * Until the VM lifecycle is split (vm_create/vm_start/vm_pause...), pause and resume answer
 * "not supported", InstanceStart's late failures (a kernel that does not load) end the process
 * as `hardy run` would, and SendCtrlAltDel presses the power button through SIGTERM. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "core/event_loop.h"
#include "util/proc_title.h"
#include "vm/vm.h"

struct api_run {
	int start_efd; /* written by InstanceStart: the config is ready */
	int wake_efd;  /* written by the main thread: the API thread stops */
	struct event_loop *loop;
	struct api_vm *vm;
	struct api_server *srv;
	pthread_t thread;
	bool thread_started;
};

static int api_run_instance_start(void *ctx, struct vm_config *cfg, struct error *err)
{
	struct api_run *r = ctx;
	uint64_t one = 1;
	if (write(r->start_efd, &one, sizeof(one)) != sizeof(one))
		return error_errno(err, "InstanceStart");
	return 0;
}

/* The VM's SIGTERM handling presses the ACPI power button (and stops the VM if the guest has
 * not powered off within its timeout). */
static int api_run_ctrl_alt_del(void *ctx, struct error *err)
{
	if (kill(getpid(), SIGTERM) < 0)
		return error_errno(err, "SendCtrlAltDel");
	return 0;
}

static const struct api_ops api_run_ops = {
	.instance_start = api_run_instance_start,
	.ctrl_alt_del = api_run_ctrl_alt_del,
};

static void api_run_wake(void *ctx, uint32_t events)
{
	struct api_run *r = ctx;
	event_loop_quit(r->loop);
}

static void *api_run_thread(void *arg)
{
	struct api_run *r = arg;
	pthread_setname_np(pthread_self(), "api");
	struct error err = { 0 };
	if (event_loop_run(r->loop, &err) < 0)
		fprintf(stderr, "hardy: API server: %s\n", err.msg);
	return NULL;
}

/* The signals that end a waiting hardy (and that the VM handles once it runs), blocked here so
 * that a SIGTERM between InstanceStart and the VM's own signal handling is not lost. */
static void api_run_signal_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGHUP);
	sigaddset(s, SIGQUIT);
}

static int api_run_serve(struct api_run *r, const char *sock, struct error *err)
{
	int fd = api_socket_listen(sock, err);
	if (fd < 0)
		return -1;
	r->loop = event_loop_create(err);
	if (!r->loop) {
		close(fd);
		return -1;
	}
	r->srv = api_server_start(r->loop, fd, r->vm, err);
	if (!r->srv || event_loop_add(r->loop, r->wake_efd, EPOLLIN, api_run_wake, r, err) < 0)
		return -1;
	/* The API thread takes no signals: they belong to the VM's signalfd. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&r->thread, NULL, api_run_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		return error_errno(err, "API thread");
	}
	r->thread_started = true;
	return 0;
}

/* Waits for InstanceStart; 1 when it came, 0 when a signal ended the wait. */
static int api_run_wait_start(struct api_run *r, const sigset_t *sigs, struct error *err)
{
	int sfd = signalfd(-1, sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return error_errno(err, "signalfd");
	struct pollfd p[2] = { { .fd = r->start_efd, .events = POLLIN },
			       { .fd = sfd, .events = POLLIN } };
	int started = -1;
	while (started < 0) {
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			started = error_errno(err, "poll");
			break;
		}
		if (p[0].revents & POLLIN)
			started = 1;
		else if (p[1].revents & POLLIN)
			started = 0;
	}
	close(sfd);
	return started;
}

static void api_run_cleanup(struct api_run *r, const char *sock)
{
	if (r->thread_started) {
		uint64_t one = 1;
		ssize_t n = write(r->wake_efd, &one, sizeof(one));
		(void)n;
		pthread_join(r->thread, NULL);
	}
	api_server_stop(r->srv);
	if (r->srv && sock)
		unlink(sock);
	event_loop_destroy(r->loop);
	api_vm_destroy(r->vm);
	if (r->start_efd >= 0)
		close(r->start_efd);
	if (r->wake_efd >= 0)
		close(r->wake_efd);
}

int cli_run_api(struct vm_config *cfg, const char *config_file, const char *sock)
{
	struct error err = { 0 };
	struct api_run r = { .start_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
			     .wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
	sigset_t sigs;
	api_run_signal_set(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int status = ERR_RUNTIME;
	if (r.start_efd < 0 || r.wake_efd < 0) {
		error_errno(&err, "eventfd");
		goto out;
	}
	r.vm = api_vm_create(cfg, &api_run_ops, &r, &err);
	if (!r.vm)
		goto out;
	/* The file is applied and the VM started before the server exists: one thread at a
	 * time touches the description. */
	if (config_file) {
		struct error ferr = { 0 };
		if (api_vm_load_config_file(r.vm, config_file, &ferr) < 0 ||
		    api_vm_instance_start(r.vm, &ferr) < 0) {
			error_set(&err, ferr.status, "--config-file %s: %s", config_file, ferr.msg);
			goto out;
		}
	}
	if (sock && api_run_serve(&r, sock, &err) < 0)
		goto out;
	proc_title_set("hardy: %s", cfg->name);
	int started = api_run_wait_start(&r, &sigs, &err);
	if (started <= 0) {
		status = started < 0 ? err.status : 0;
		goto out;
	}
	status = vm_run(cfg, &err);
out:
	api_run_cleanup(&r, sock);
	if (err.status != ERR_OK) {
		fprintf(stderr, "hardy: %s\n", err.msg);
		status = err.status;
	}
	return status;
}
