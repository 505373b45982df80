/* Static ELF loader of the user-mode runner (i386 programs: i386.c): maps PT_LOAD segments at their addresses (with a
 * fixed bias for static-PIE), sets up brk, and builds the initial stack (argc, argv, envp,
 * auxv with AT_PHDR/AT_PAGESZ/AT_RANDOM/AT_ENTRY...) the way Linux does. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "runner.h"

#define STACK_SIZE (8u << 20)
#define PIE_BIAS 0x555555554000ULL

static uint8_t elf_prot(uint32_t f)
{
	return (uint8_t)(RUN_PROT_OWNED | (f & PF_R ? RUN_PROT_R : 0) | (f & PF_W ? RUN_PROT_W : 0) |
			 (f & PF_X ? RUN_PROT_X : 0));
}

/* Map [lo, hi) (page aligned) as guest memory at exactly that address. */
static int map_fixed(uint64_t lo, uint64_t hi)
{
	void *p = mmap((void *)(uintptr_t)lo, hi - lo, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	return p == (void *)(uintptr_t)lo ? 0 : -1;
}

static uint64_t push_bytes(uint64_t sp, const void *data, size_t n)
{
	sp -= n;
	memcpy((void *)(uintptr_t)sp, data, n);
	return sp;
}

const char *run_load(struct runner *r, const char *path, int argc, char **argv, char **envp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "cannot open program";
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS32) {
		const char *err = run_load_i386(r, fd, argc, argv, envp);
		close(fd);
		return err;
	}
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phnum > 64) {
		close(fd);
		return "not an x86-64 ELF executable";
	}
	Elf64_Phdr ph[64];
	if (pread(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), (off_t)eh.e_phoff) !=
	    (ssize_t)(eh.e_phnum * sizeof(Elf64_Phdr))) {
		close(fd);
		return "truncated program headers";
	}
	uint64_t bias = eh.e_type == ET_DYN ? PIE_BIAS : 0, end = 0, phdr = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP) {
			close(fd);
			return "dynamically linked programs are not supported (static ELF only)";
		}
		if (ph[i].p_type == PT_PHDR)
			phdr = ph[i].p_vaddr + bias;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		uint64_t va = p->p_vaddr + bias, lo = va & ~0xfffULL;
		uint64_t hi = (va + p->p_memsz + 4095) & ~0xfffULL;
		/* Segments may share a page; map what is not mapped yet. */
		for (uint64_t pg = lo; pg < hi; pg += 4096)
			if (!(run_pt_get(r, pg) & RUN_PROT_OWNED) && map_fixed(pg, pg + 4096)) {
				close(fd);
				return "cannot map a segment at its address";
			}
		if (pread(fd, (void *)(uintptr_t)va, p->p_filesz, (off_t)p->p_offset) !=
		    (ssize_t)p->p_filesz) {
			close(fd);
			return "cannot read a segment";
		}
		for (uint64_t pg = lo; pg < hi; pg += 4096)
			run_pt_set(r, pg, 4096, (uint8_t)(run_pt_get(r, pg) | elf_prot(p->p_flags)));
		if (!phdr && p->p_offset == 0)
			phdr = va + eh.e_phoff;
		if (hi > end)
			end = hi;
	}
	close(fd);
	r->brk_start = r->brk_cur = r->brk_mapped = end;

	/* Stack. */
	void *stk = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stk == MAP_FAILED)
		return "cannot map the stack";
	uint64_t base = (uint64_t)(uintptr_t)stk;
	run_pt_set(r, base, STACK_SIZE, RUN_PROT_OWNED | RUN_PROT_R | RUN_PROT_W);
	uint64_t sp = base + STACK_SIZE;
	int envc = 0;
	while (envp[envc])
		envc++;
	uint64_t *aptrs = calloc((size_t)argc + (size_t)envc + 2, sizeof(uint64_t));
	if (!aptrs)
		return "out of memory";
	sp = push_bytes(sp, r->guest_exe, strlen(r->guest_exe) + 1);
	uint64_t execfn = sp;
	for (int i = envc - 1; i >= 0; i--)
		aptrs[argc + 1 + i] = sp = push_bytes(sp, envp[i], strlen(envp[i]) + 1);
	for (int i = argc - 1; i >= 0; i--)
		aptrs[i] = sp = push_bytes(sp, argv[i], strlen(argv[i]) + 1);
	sp = push_bytes(sp, "x86_64", 7);
	uint64_t platform = sp;
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	sp = push_bytes(sp, rnd, 16);
	uint64_t random = sp;
	uint32_t cpuid1[4];
	soft_cpuid(1, 0, cpuid1);
	uint64_t aux[][2] = {
		{ AT_PHDR, phdr }, { AT_PHENT, sizeof(Elf64_Phdr) }, { AT_PHNUM, eh.e_phnum },
		{ AT_PAGESZ, 4096 }, { AT_BASE, 0 }, { AT_FLAGS, 0 }, { AT_ENTRY, eh.e_entry + bias },
		{ AT_UID, getuid() }, { AT_EUID, geteuid() }, { AT_GID, getgid() },
		{ AT_EGID, getegid() }, { AT_SECURE, 0 }, { AT_HWCAP, cpuid1[3] },
		{ AT_CLKTCK, 100 }, { AT_RANDOM, random }, { AT_EXECFN, execfn },
		{ AT_PLATFORM, platform }, { AT_HWCAP2, 0 }, { AT_NULL, 0 },
	};
	size_t nwords = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * (sizeof(aux) / sizeof(aux[0]));
	sp = (sp - nwords * 8) & ~15ULL;
	uint64_t *w = (uint64_t *)(uintptr_t)sp;
	*w++ = (uint64_t)argc;
	for (int i = 0; i < argc; i++)
		*w++ = aptrs[i];
	*w++ = 0;
	for (int i = 0; i < envc; i++)
		*w++ = aptrs[argc + 1 + i];
	*w++ = 0;
	memcpy(w, aux, sizeof(aux));
	free(aptrs);

	struct soft_cpu *c = r->cpu;
	c->gpr[SOFT_RSP] = sp;
	c->rip = eh.e_entry + bias;
	soft_cpu_set_rflags(c, 0x202);
	return NULL;
}
