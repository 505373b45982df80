/* Control socket client (ctl_client.h). Every request is bounded: 5 s to answer, 1 MiB of
 * reply at most, so a wedged VMM cannot hang a verb. */
#include "cli/ctl_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_REPLY_MAX (1u << 20)
#define CTL_REQUEST_TIMEOUT_S 5L

int ctl_find(const char *name, struct ctl_target *t, struct error *err)
{
	memset(t, 0, sizeof(*t));
	if (snprintf(t->name, sizeof(t->name), "%s", name) >= (int)sizeof(t->name) ||
	    !name[0] || strchr(name, '/'))
		return error_set(err, ERR_INPUT, "no VM named '%.60s' is running", name);
	if (ctl_dir(t->dir, sizeof(t->dir), 0, err) < 0 ||
	    ctl_sock_path(t->dir, name, t->sock, sizeof(t->sock), err) < 0)
		return -1;
	int fd = ctl_connect(t->dir, name, &t->pid);
	if (fd < 0)
		return error_set(err, ERR_INPUT, "no VM named %s is running", name);
	close(fd);
	return 0;
}

struct ctl_buf {
	char *data;
	size_t len;
	bool overflow;
};

static size_t ctl_on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct ctl_buf *b = ctx;
	size_t len = size * n;
	if (b->len + len > CTL_REPLY_MAX) {
		b->overflow = true;
		return 0; /* aborts the transfer */
	}
	char *grown = realloc(b->data, b->len + len + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->len, p, len);
	b->data = grown;
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

int ctl_request(const struct ctl_target *t, const char *method, const char *path,
		const char *body, struct json_object **reply, struct error *err)
{
	*reply = NULL;
	CURL *c = curl_easy_init();
	if (!c)
		return error_set(err, ERR_RUNTIME, "cannot start an HTTP client");
	char url[256];
	snprintf(url, sizeof(url), "http://localhost%s", path);
	struct ctl_buf b = { 0 };
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, t->sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, CTL_REQUEST_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ctl_on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(b.data);
		return error_set(err, ERR_RUNTIME, "VM %s: %s", t->name,
				 b.overflow ? "reply too large" : curl_easy_strerror(rc));
	}
	struct json_object *j = b.data ? json_tokener_parse(b.data) : NULL;
	free(b.data);
	if (status >= 400) {
		struct json_object *msg = NULL;
		const char *m = j && json_object_object_get_ex(j, "fault_message", &msg)
					? json_object_get_string(msg) : "request refused";
		error_set(err, status == 400 ? ERR_INPUT : ERR_RUNTIME, "%s: %s", t->name, m);
		json_object_put(j);
		return (int)status;
	}
	if (status == 200 && !j)
		return error_set(err, ERR_RUNTIME, "VM %s: the reply is not JSON", t->name);
	*reply = j;
	return (int)status;
}
