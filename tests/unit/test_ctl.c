/* Unit test: the control socket without a VM (a VMM waiting to be configured): the runtime
 * directory and socket modes, unique names, stale sockets, the API over a real Unix socket
 * with the verbs' libcurl client (good and bad requests, a VM configured through the control
 * socket), a stalled client and a flood of connections that do not delay another client. */
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "check.h"
#include "cli/ctl_client.h"
#include "api/api.h"
#include "vmm/vmm.h"

static char rt[64];

static struct vmm *vmm_named(const char *name, struct error *err)
{
	struct vm_config base;
	CHECK(vm_config_defaults(&base, err) == 0, "defaults");
	CHECK(vm_config_set_str(&base.name, name, err) == 0, "name");
	struct vmm *m = vmm_create(&base, err);
	vm_config_free(&base);
	return m;
}

static void *loop_thread(void *arg)
{
	struct error err = { 0 };
	static int status;
	status = vmm_run(arg, &err);
	return &status;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int raw_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect %s", path);
	return fd;
}

/* status of one request; *fault: its fault_message or "" */
static int req(const struct ctl_target *t, const char *method, const char *path, const char *body,
	       struct json_object **reply, char *fault)
{
	struct error err = { 0 };
	int st = ctl_request(t, method, path, body, reply, &err);
	snprintf(fault, 320, "%s", err.msg);
	return st;
}

static void test_waiting_vmm(void)
{
	SECTION("runtime directory 0700, socket 0600, names unique");
	struct error err = { 0 };
	struct vmm *m = vmm_named("t1", &err);
	CHECK(m, "vmm_create: %s", err.msg);
	struct stat st;
	char path[256];
	CHECK(stat(rt, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	      "runtime dir mode %o", st.st_mode & 0777);
	snprintf(path, sizeof(path), "%s/t1.sock", rt);
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
	      "socket mode %o", st.st_mode & 0777);
	err = (struct error){ 0 };
	CHECK(!vmm_named("t1", &err) && err.status == ERR_INPUT, "a second t1 was created");
	char want[64];
	snprintf(want, sizeof(want), "a VM named t1 is running (pid %d)", (int)getpid());
	CHECK(!strcmp(err.msg, want), "second t1: '%s'", err.msg);

	pthread_t th;
	CHECK(pthread_create(&th, NULL, loop_thread, m) == 0, "thread");

	SECTION("GET / and the refusals of a VMM with no VM");
	struct ctl_target t;
	err = (struct error){ 0 };
	CHECK(ctl_find("t1", &t, &err) == 0 && t.pid == getpid(), "find t1: %s", err.msg);
	struct json_object *r = NULL;
	char fault[320];
	CHECK(req(&t, "GET", "/", NULL, &r, fault) == 200, "GET /: %s", fault);
	struct json_object *v;
	CHECK(json_object_object_get_ex(r, "state", &v) &&
	      !strcmp(json_object_get_string(v), "Not started"), "state");
	CHECK(json_object_object_get_ex(r, "id", &v) && !strcmp(json_object_get_string(v), "t1"), "id");
	json_object_put(r);
	CHECK(req(&t, "PATCH", "/vm", "{\"state\": \"Paused\"}", &r, fault) == 400 &&
	      strstr(fault, "before starting"), "pause before start: %s", fault);
	CHECK(req(&t, "PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 64, "
		  "\"x\": 1}", &r, fault) == 400 && strstr(fault, "x"), "unknown field: %s", fault);
	CHECK(req(&t, "PUT", "/machine-config", "{\"vcpu_count\": \"2\", \"mem_size_mib\": 64}",
		  &r, fault) == 400, "wrong type");
	CHECK(req(&t, "PUT", "/machine-config", "{\"vcpu_count\": ", &r, fault) == 400,
	      "truncated JSON: %s", fault);
	CHECK(req(&t, "GET", "/nope", NULL, &r, fault) == 400, "unknown path");
	CHECK(req(&t, "DELETE", "/", NULL, &r, fault) == 400, "DELETE /");

	SECTION("the control socket configures the VM as --api-sock would");
	CHECK(req(&t, "PUT", "/machine-config", "{\"vcpu_count\": 3, \"mem_size_mib\": 256}",
		  &r, fault) == 204, "PUT /machine-config: %s", fault);
	char disk[] = "/tmp/hardy-unit-ctl-disk-XXXXXX", drive[256];
	int dfd = mkstemp(disk);
	CHECK(dfd >= 0 && ftruncate(dfd, 1 << 20) == 0, "disk image");
	close(dfd);
	snprintf(drive, sizeof(drive), "{\"drive_id\": \"rootfs\", \"path_on_host\": \"%s\", "
		 "\"is_root_device\": true, \"is_read_only\": true}", disk);
	CHECK(req(&t, "PUT", "/drives/rootfs", drive, &r, fault) == 204, "PUT /drives: %s", fault);
	CHECK(req(&t, "GET", "/machine-config", NULL, &r, fault) == 200 &&
	      json_object_object_get_ex(r, "vcpu_count", &v) && json_object_get_int(v) == 3,
	      "GET /machine-config: %s", fault);
	json_object_put(r);
	CHECK(req(&t, "GET", "/vm/config", NULL, &r, fault) == 200, "GET /vm/config: %s", fault);
	CHECK(strstr(json_object_to_json_string(r), "\"is_read_only\": true"), "vm/config: %s",
	      json_object_to_json_string(r));
	json_object_put(r);
	CHECK(req(&t, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", &r, fault) == 400 &&
	      strstr(fault, "boot source"), "InstanceStart without a kernel: %s", fault);
	unlink(disk);
	static char big[API_MAX_BODY + 4096];
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	CHECK(req(&t, "PUT", "/machine-config", big, &r, fault) >= 400 && strstr(fault, "larger"),
	      "a body over the limit: %s", fault);

	SECTION("a stalled client and a flood do not delay another client");
	int stalled = raw_connect(t.sock);
	CHECK(write(stalled, "GET / HTTP/1.1\r\nHost: x\r\n", 25) == 25, "write");
	int flood[API_MAX_CONNECTIONS + 8];
	for (unsigned i = 0; i < sizeof(flood) / sizeof(flood[0]); i++)
		flood[i] = raw_connect(t.sock);
	for (unsigned i = 0; i < sizeof(flood) / sizeof(flood[0]); i++)
		close(flood[i]);
	double t0 = now_s();
	CHECK(req(&t, "GET", "/", NULL, &r, fault) == 200, "GET / next to a stalled client: %s",
	      fault);
	json_object_put(r);
	CHECK(now_s() - t0 < 2.0, "the answer took %.1f s", now_s() - t0);
	close(stalled);

	SECTION("stale sockets are cleaned up");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/dead.sock", rt);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0, "bind dead.sock");
	close(s); /* the file stays, nobody listens: a VM that died */
	err = (struct error){ 0 };
	CHECK(ctl_find("dead", &t, &err) < 0 && err.status == ERR_INPUT &&
	      strstr(err.msg, "no VM named dead"), "dead VM found: %s", err.msg);
	CHECK(access(a.sun_path, F_OK) < 0, "the stale socket is still there");
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0, "bind dead.sock again");
	close(s);
	err = (struct error){ 0 };
	struct vmm *m2 = vmm_named("dead", &err);
	CHECK(m2, "a stale socket blocked its name: %s", err.msg);
	vmm_destroy(m2);
	CHECK(access(a.sun_path, F_OK) < 0, "vmm_destroy left its socket");

	SECTION("SIGTERM ends a VMM that waits for a VM; its socket goes");
	kill(getpid(), SIGTERM);
	void *ret;
	pthread_join(th, &ret);
	CHECK(*(int *)ret == 0, "vmm_run returned %d", *(int *)ret);
	vmm_destroy(m);
	CHECK(access(path, F_OK) < 0, "t1.sock left behind");
}

int main(void)
{
	snprintf(rt, sizeof(rt), "/tmp/hardy-unit-ctl-XXXXXX");
	CHECK(mkdtemp(rt), "mkdtemp");
	strcat(rt, "/rt"); /* not there yet: vmm_create makes it */
	setenv("HARDY_RUNTIME_DIR", rt, 1);
	test_waiting_vmm();
	rmdir(rt);
	*strrchr(rt, '/') = '\0';
	rmdir(rt);
	puts("test_ctl: all passed");
	return 0;
}
