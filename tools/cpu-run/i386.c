/* i386 programs in the user-mode runner: a static 32-bit ELF runs in the soft CPU's
 * compatibility mode, with its memory (segments, stack, brk, mmap2) below 4 GiB, and its
 * `int $0x80` system calls translated to the x86-64 calls run_syscall performs. Only calls whose
 * arguments have the same layout on both ABIs are translated (file I/O on plain buffers, brk,
 * mmap2/munmap/mprotect, ids, uname, exit); others return -ENOSYS. No vDSO (AT_SYSINFO) and no
 * set_thread_area, so static glibc programs are not supported yet. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner.h"

#define STACK_SIZE (1u << 20)

static uint8_t elf_prot(uint32_t f)
{
	return (uint8_t)(RUN_PROT_OWNED | (f & PF_R ? RUN_PROT_R : 0) | (f & PF_W ? RUN_PROT_W : 0) |
			 (f & PF_X ? RUN_PROT_X : 0));
}

static uint32_t push_bytes(uint32_t sp, const void *data, size_t n)
{
	sp -= (uint32_t)n;
	memcpy((void *)(uintptr_t)sp, data, n);
	return sp;
}

const char *run_load_i386(struct runner *r, int fd, int argc, char **argv, char **envp)
{
	Elf32_Ehdr eh;
	Elf32_Phdr ph[64];
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_machine != EM_386 ||
	    eh.e_type != ET_EXEC || eh.e_phnum > 64)
		return "not a static i386 ELF executable";
	if (pread(fd, ph, eh.e_phnum * sizeof(Elf32_Phdr), (off_t)eh.e_phoff) !=
	    (ssize_t)(eh.e_phnum * sizeof(Elf32_Phdr)))
		return "truncated program headers";
	uint32_t end = 0, phdr = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const Elf32_Phdr *p = &ph[i];
		if (p->p_type == PT_INTERP)
			return "dynamically linked programs are not supported (static ELF only)";
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		uint64_t lo = p->p_vaddr & ~0xfffu, hi = ((uint64_t)p->p_vaddr + p->p_memsz + 4095) & ~0xfffULL;
		for (uint64_t pg = lo; pg < hi; pg += 4096)
			if (!(run_pt_get(r, pg) & RUN_PROT_OWNED) &&
			    mmap((void *)(uintptr_t)pg, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
				 MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)(uintptr_t)pg)
				return "cannot map a segment at its address";
		if (pread(fd, (void *)(uintptr_t)p->p_vaddr, p->p_filesz, (off_t)p->p_offset) !=
		    (ssize_t)p->p_filesz)
			return "cannot read a segment";
		for (uint64_t pg = lo; pg < hi; pg += 4096)
			run_pt_set(r, pg, 4096, (uint8_t)(run_pt_get(r, pg) | elf_prot(p->p_flags)));
		if (!phdr && p->p_offset == 0)
			phdr = p->p_vaddr + eh.e_phoff;
		if (hi > end)
			end = (uint32_t)hi;
	}
	r->brk_start = r->brk_cur = r->brk_mapped = end;

	void *stk = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_32BIT, -1, 0);
	if (stk == MAP_FAILED)
		return "cannot map the stack";
	run_pt_set(r, (uintptr_t)stk, STACK_SIZE, RUN_PROT_OWNED | RUN_PROT_R | RUN_PROT_W);
	uint32_t sp = (uint32_t)(uintptr_t)stk + STACK_SIZE;
	int envc = 0;
	while (envp[envc])
		envc++;
	uint32_t *aptrs = calloc((size_t)argc + (size_t)envc + 2, sizeof(uint32_t));
	if (!aptrs)
		return "out of memory";
	sp = push_bytes(sp, r->guest_exe, strlen(r->guest_exe) + 1);
	uint32_t execfn = sp;
	for (int i = envc - 1; i >= 0; i--)
		aptrs[argc + 1 + i] = sp = push_bytes(sp, envp[i], strlen(envp[i]) + 1);
	for (int i = argc - 1; i >= 0; i--)
		aptrs[i] = sp = push_bytes(sp, argv[i], strlen(argv[i]) + 1);
	sp = push_bytes(sp, "i686", 5);
	uint32_t platform = sp;
	uint8_t rnd[16] = { 0 };
	sp = push_bytes(sp, rnd, 16);
	uint32_t random = sp;
	uint32_t aux[][2] = {
		{ AT_PHDR, phdr }, { AT_PHENT, sizeof(Elf32_Phdr) }, { AT_PHNUM, eh.e_phnum },
		{ AT_PAGESZ, 4096 }, { AT_ENTRY, eh.e_entry }, { AT_UID, getuid() },
		{ AT_EUID, geteuid() }, { AT_GID, getgid() }, { AT_EGID, getegid() },
		{ AT_RANDOM, random }, { AT_EXECFN, execfn }, { AT_PLATFORM, platform },
		{ AT_NULL, 0 },
	};
	size_t nwords = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * (sizeof(aux) / sizeof(aux[0]));
	sp = (uint32_t)((sp - nwords * 4) & ~15u);
	uint32_t *w = (uint32_t *)(uintptr_t)sp;
	*w++ = (uint32_t)argc;
	for (int i = 0; i < argc; i++)
		*w++ = aptrs[i];
	*w++ = 0;
	for (int i = 0; i < envc; i++)
		*w++ = aptrs[argc + 1 + i];
	*w++ = 0;
	memcpy(w, aux, sizeof(aux));
	free(aptrs);

	struct soft_cpu *c = r->cpu;
	soft_cpu_set_cs_mode(c, SOFT_CS_32);
	c->gpr[SOFT_RSP] = sp;
	c->rip = eh.e_entry;
	soft_cpu_set_rflags(c, 0x202);
	r->i386 = true;
	return NULL;
}

/* i386 system call number -> x86-64 number, for calls with the same argument layout. */
static const uint16_t i386_calls[][2] = {
	{ 1, SYS_exit }, { 3, SYS_read }, { 4, SYS_write }, { 5, SYS_open }, { 6, SYS_close },
	{ 20, SYS_getpid }, { 33, SYS_access }, { 45, SYS_brk }, { 54, SYS_ioctl },
	{ 91, SYS_munmap }, { 122, SYS_uname }, { 125, SYS_mprotect }, { 192, SYS_mmap },
	{ 199, SYS_getuid }, { 200, SYS_getgid }, { 201, SYS_geteuid }, { 202, SYS_getegid },
	{ 252, SYS_exit_group },
};

bool run_syscall_i386(struct runner *r, int *exit_code)
{
	struct soft_cpu *c = r->cpu;
	uint64_t saved[16];
	memcpy(saved, c->gpr, sizeof(saved));
	uint32_t nr = (uint32_t)c->gpr[SOFT_RAX];
	long nr64 = -1;
	for (size_t i = 0; i < sizeof(i386_calls) / sizeof(i386_calls[0]); i++)
		if (i386_calls[i][0] == nr)
			nr64 = i386_calls[i][1];
	if (nr64 < 0) {
		c->gpr[SOFT_RAX] = (uint32_t)-ENOSYS;
		return true;
	}
	/* ebx, ecx, edx, esi, edi, ebp -> rdi, rsi, rdx, r10, r8, r9 */
	static const uint8_t from[6] = { SOFT_RBX, SOFT_RCX, SOFT_RDX, SOFT_RSI, SOFT_RDI, SOFT_RBP };
	static const uint8_t to[6] = { SOFT_RDI, SOFT_RSI, SOFT_RDX, SOFT_R10, SOFT_R8, SOFT_R9 };
	for (unsigned i = 0; i < 6; i++)
		c->gpr[to[i]] = (uint32_t)saved[from[i]];
	if (nr64 == SYS_mmap) { /* mmap2: offset in pages, fd signed; keep it below 4 GiB */
		c->gpr[SOFT_R8] = (uint64_t)(int64_t)(int32_t)saved[SOFT_RDI];
		c->gpr[SOFT_R9] = (uint64_t)(uint32_t)saved[SOFT_RBP] << 12;
		if (!(c->gpr[SOFT_R10] & MAP_FIXED))
			c->gpr[SOFT_R10] |= MAP_32BIT;
	}
	c->gpr[SOFT_RAX] = (uint64_t)nr64;
	bool go = run_syscall(r, exit_code);
	uint64_t rc = c->gpr[SOFT_RAX];
	memcpy(c->gpr, saved, sizeof(saved));
	c->gpr[SOFT_RAX] = (uint32_t)rc;
	return go;
}
