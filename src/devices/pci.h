/* A PCI function on the host bridge's bus 0, as the bridge sees it: a 256-byte configuration
 * space image and a mask of the bits the guest may write. The owner (a transport such as
 * virtio-pci) fills both before attaching and learns of writes through cfg_written, which
 * runs under the owner's lock. BARs are pre-assigned by hardy (from the resource allocator);
 * the guest can size them (the mask makes all-ones read back as the size) but the decoded
 * address never moves. */
#ifndef HARDY_DEVICES_PCI_H
#define HARDY_DEVICES_PCI_H

#include <pthread.h>
#include <stdint.h>

#include "util/error.h"

#define PCI_MAX_SLOTS 32

struct pci_host;

struct pci_function {
	uint8_t cfg[256];
	uint8_t wmask[256];
	pthread_mutex_t *lock; /* guards cfg; the owner's device lock */
	void (*cfg_written)(struct pci_function *f, unsigned reg, unsigned len);
	void *owner;
};

/* Puts f in the next free slot of bus 0 (function 0). Before vCPUs start. */
int pci_host_attach(struct pci_host *h, struct pci_function *f, struct error *err);

#endif
