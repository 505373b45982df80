/* The device list and the boilerplate every device shares: allocation, its lock, its place in
 * the list, teardown, and the walks over all devices (reset, ACPI, command line). */
#include "devices/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *device_new(const struct dev_services *svc, size_t size, const struct device_ops *ops,
		 struct error *err)
{
	struct device *d = calloc(1, size);
	if (!d) {
		error_errno(err, "out of memory for %s", ops->name);
		return NULL;
	}
	d->ops = ops;
	pthread_mutex_init(&d->lock, NULL);
	struct device_list *l = svc->devices;
	d->prev = l->tail;
	if (l->tail)
		l->tail->next = d;
	else
		l->head = d;
	l->tail = d;
	return d;
}

struct irq_line device_irq_fixed(const struct dev_services *svc, unsigned gsi)
{
	return (struct irq_line){ .set = svc->irq_set, .ctx = svc->irq_ctx, .gsi = gsi };
}

int device_irq_alloc(const struct dev_services *svc, struct irq_line *line, struct error *err)
{
	unsigned gsi;
	if (resources_gsi(svc->res, &gsi, err) < 0)
		return -1;
	*line = device_irq_fixed(svc, gsi);
	return 0;
}

void device_list_init(struct device_list *l)
{
	l->head = l->tail = NULL;
}

void device_list_reset(struct device_list *l)
{
	for (struct device *d = l->head; d; d = d->next)
		if (d->ops->reset)
			d->ops->reset(d);
}

void device_list_destroy(struct device_list *l)
{
	struct device *d = l->tail;
	while (d) {
		struct device *prev = d->prev;
		if (d->ops->destroy)
			d->ops->destroy(d);
		pthread_mutex_destroy(&d->lock);
		free(d);
		d = prev;
	}
	l->head = l->tail = NULL;
}

void device_list_acpi_dsdt(struct device_list *l, struct aml_buf *aml)
{
	for (struct device *d = l->head; d; d = d->next)
		if (d->ops->acpi_dsdt)
			d->ops->acpi_dsdt(d, aml);
}

int device_list_cmdline(struct device_list *l, const char *base, char *buf, size_t cap,
			struct error *err)
{
	int n = snprintf(buf, cap, "%s", base ? base : "");
	for (struct device *d = l->head; d && n >= 0 && (size_t)n < cap; d = d->next) {
		if (!d->ops->cmdline)
			continue;
		char word[256];
		int w = d->ops->cmdline(d, word, sizeof(word));
		if (w < 0 || (size_t)w >= sizeof(word))
			return error_set(err, ERR_RUNTIME, "%s: command line word too long",
					 d->ops->name);
		if (w > 0)
			n += snprintf(buf + n, cap - (size_t)n, "%s%s", n ? " " : "", word);
	}
	if (n < 0 || (size_t)n >= cap)
		return error_set(err, ERR_INPUT, "the kernel command line with the devices' additions "
				 "is longer than %zu bytes", cap - 1);
	return 0;
}
