/* libFuzzer target: the API's request handling (api_vm_handle, no sockets) and the config file
 * reader, against fake VMM callbacks. An input is a sequence of requests separated by a line
 * "--"; each is "METHOD PATH" on its first line and the body after it. An input starting with
 * "CONFIG\n" is a config file instead (then more requests may follow its own "--" line).
 * Checked besides the sanitizers: every reply is 200 with a JSON object, 204 without a body, or
 * 400/500 with a one-line fault_message; the config stays within its bounds. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api_vm.h"

static int fuzz_start(void *ctx, struct vm_config *cfg, struct error *err)
{
	return 0;
}
static int fuzz_op(void *ctx, struct error *err)
{
	return 0;
}
static const struct api_ops fuzz_ops = {
	.instance_start = fuzz_start, .pause = fuzz_op, .resume = fuzz_op, .ctrl_alt_del = fuzz_op,
};

static int fuzz_sink(const char *what, const char *path, struct error *err)
{
	return open("/dev/null", O_WRONLY | O_CLOEXEC);
}

static void fuzz_check_reply(const struct api_reply *r)
{
	if (r->status == 204) {
		if (r->body)
			abort();
		return;
	}
	if (r->status != 200 && r->status != 400 && r->status != 500)
		abort();
	if (!r->body || strchr(r->body, '\n'))
		abort();
	struct json_object *o = json_tokener_parse(r->body);
	if (!o || !json_object_is_type(o, json_type_object))
		abort();
	if (r->status != 200 && !json_object_object_get_ex(o, "fault_message", NULL))
		abort();
	json_object_put(o);
}

static void fuzz_request(struct api_vm *vm, const char *req, size_t len)
{
	const char *nl = memchr(req, '\n', len);
	size_t line = nl ? (size_t)(nl - req) : len;
	char head[512];
	if (line >= sizeof(head))
		return;
	memcpy(head, req, line);
	head[line] = '\0';
	char *sp = strchr(head, ' ');
	if (!sp)
		return;
	*sp = '\0';
	const char *body = nl ? nl + 1 : req + len;
	struct api_reply r;
	api_vm_handle(vm, head, sp + 1, body, (size_t)(req + len - body), &r);
	fuzz_check_reply(&r);
	api_reply_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg;
	struct error err = { 0 };
	if (vm_config_defaults(&cfg, &err) < 0)
		return 0;
	struct api_vm *vm = api_vm_create(&cfg, &fuzz_ops, NULL, &err);
	if (!vm) {
		vm_config_free(&cfg);
		return 0;
	}
	vm->open_sink = fuzz_sink;
	const char *p = (const char *)data, *end = p + size;
	bool config = size >= 7 && !memcmp(p, "CONFIG\n", 7);
	if (config)
		p += 7;
	while (p < end) {
		const char *sep = memmem(p, (size_t)(end - p), "\n--\n", 4);
		size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
		if (config) {
			err = (struct error){ 0 };
			if (api_vm_load_config(vm, p, len, &err) < 0 &&
			    (err.status == ERR_OK || strchr(err.msg, '\n')))
				abort();
			config = false;
		} else {
			fuzz_request(vm, p, len);
		}
		p += len + (sep ? 4 : 0);
	}
	if (cfg.nr_disks > HARDY_MAX_DISKS || cfg.nr_nets > HARDY_MAX_NICS || !cfg.cmdline ||
	    strlen(cfg.cmdline) >= X86_CMDLINE_MAX)
		abort();
	api_vm_destroy(vm);
	vm_config_free(&cfg);
	return 0;
}
