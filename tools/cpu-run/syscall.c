/* Linux system calls of the user-mode runner. Memory-management calls (brk, mmap, munmap,
 * mprotect) maintain the guest page table and tell the CPU to drop stale translations and code;
 * process calls (fork/vfork/clone-as-fork, execve re-entering this runner, exit) are emulated;
 * signals are recorded but never delivered to guest handlers; the rest of the calls busybox-like
 * programs need pass straight to the host, since guest addresses are host addresses. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner.h"

#define A(i) (c->gpr[(const unsigned[]){ SOFT_RDI, SOFT_RSI, SOFT_RDX, SOFT_R10, SOFT_R8, SOFT_R9 }[i]])

/* Calls forwarded to the host unchanged. */
static bool passthrough(long nr)
{
	switch (nr) {
	case SYS_read: case SYS_write: case SYS_open: case SYS_close: case SYS_stat: case SYS_fstat:
	case SYS_lstat: case SYS_poll: case SYS_lseek: case SYS_rt_sigprocmask: case SYS_ioctl:
	case SYS_pread64: case SYS_pwrite64: case SYS_readv: case SYS_writev: case SYS_access:
	case SYS_pipe: case SYS_select: case SYS_sched_yield: case SYS_msync: case SYS_mincore:
	case SYS_dup: case SYS_dup2: case SYS_pause: case SYS_nanosleep: case SYS_getitimer:
	case SYS_alarm: case SYS_setitimer: case SYS_getpid: case SYS_sendfile: case SYS_socket:
	case SYS_connect: case SYS_accept: case SYS_sendto: case SYS_recvfrom: case SYS_sendmsg:
	case SYS_recvmsg: case SYS_shutdown: case SYS_bind: case SYS_listen: case SYS_getsockname:
	case SYS_getpeername: case SYS_socketpair: case SYS_setsockopt: case SYS_getsockopt:
	case SYS_wait4: case SYS_kill: case SYS_uname: case SYS_fcntl: case SYS_flock:
	case SYS_fsync: case SYS_fdatasync: case SYS_truncate: case SYS_ftruncate: case SYS_getdents:
	case SYS_getcwd: case SYS_chdir: case SYS_fchdir: case SYS_rename: case SYS_mkdir:
	case SYS_rmdir: case SYS_creat: case SYS_link: case SYS_unlink: case SYS_symlink:
	case SYS_chmod: case SYS_fchmod: case SYS_chown: case SYS_fchown: case SYS_lchown:
	case SYS_umask: case SYS_gettimeofday: case SYS_getrlimit: case SYS_getrusage:
	case SYS_sysinfo: case SYS_times: case SYS_getuid: case SYS_getgid: case SYS_setuid:
	case SYS_setgid: case SYS_geteuid: case SYS_getegid: case SYS_setpgid: case SYS_getppid:
	case SYS_getpgrp: case SYS_setsid: case SYS_setreuid: case SYS_setregid:
	case SYS_getgroups: case SYS_setgroups: case SYS_setresuid: case SYS_getresuid:
	case SYS_setresgid: case SYS_getresgid: case SYS_getpgid: case SYS_getsid:
	case SYS_rt_sigpending: case SYS_rt_sigtimedwait: case SYS_rt_sigsuspend: case SYS_utime:
	case SYS_mknod: case SYS_statfs: case SYS_fstatfs: case SYS_getpriority:
	case SYS_setpriority: case SYS_sched_getparam: case SYS_sched_getscheduler:
	case SYS_setrlimit: case SYS_sync: case SYS_gettid: case SYS_time: case SYS_futex:
	case SYS_sched_getaffinity: case SYS_getdents64: case SYS_fadvise64: case SYS_clock_gettime:
	case SYS_clock_getres: case SYS_clock_nanosleep: case SYS_tgkill: case SYS_tkill:
	case SYS_utimes: case SYS_waitid: case SYS_openat: case SYS_mkdirat: case SYS_fchownat:
	case SYS_newfstatat: case SYS_unlinkat: case SYS_renameat: case SYS_linkat:
	case SYS_symlinkat: case SYS_fchmodat: case SYS_faccessat: case SYS_pselect6:
	case SYS_ppoll: case SYS_splice: case SYS_tee: case SYS_utimensat: case SYS_fallocate:
	case SYS_dup3: case SYS_pipe2: case SYS_preadv: case SYS_pwritev: case SYS_prlimit64:
	case SYS_renameat2: case SYS_getrandom: case SYS_copy_file_range: case SYS_statx:
	case SYS_faccessat2: case SYS_epoll_create1: case SYS_epoll_ctl: case SYS_epoll_wait:
	case SYS_epoll_pwait: case SYS_eventfd2: case SYS_timerfd_create: case SYS_signalfd4:
	case SYS_prctl: case SYS_sched_setaffinity: case SYS_sendfile + 1000:
		return true;
	default:
		return false;
	}
}

static long sys_brk(struct runner *r, uint64_t want)
{
	if (want < r->brk_start)
		return (long)r->brk_cur;
	uint64_t need = (want + 4095) & ~0xfffULL;
	if (need > r->brk_mapped) {
		void *p = mmap((void *)(uintptr_t)r->brk_mapped, need - r->brk_mapped,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p != (void *)(uintptr_t)r->brk_mapped) {
			if (p != MAP_FAILED)
				munmap(p, need - r->brk_mapped);
			return (long)r->brk_cur;
		}
		run_pt_set(r, r->brk_mapped, need - r->brk_mapped,
			   RUN_PROT_OWNED | RUN_PROT_R | RUN_PROT_W);
		r->brk_mapped = need;
	}
	r->brk_cur = want;
	return (long)want;
}

static uint8_t guest_prot(uint64_t prot)
{
	return (uint8_t)(RUN_PROT_OWNED | (prot & PROT_READ ? RUN_PROT_R : 0) |
			 (prot & PROT_WRITE ? RUN_PROT_W : 0) | (prot & PROT_EXEC ? RUN_PROT_X : 0));
}

static void mem_changed(struct runner *r, uint64_t addr, uint64_t len)
{
	soft_cpu_code_invalidate(r->cpu, (const void *)(uintptr_t)addr, len);
}

static long sys_mmap(struct runner *r, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags,
		     int fd, uint64_t off)
{
	if (len == 0)
		return -EINVAL;
	len = (len + 4095) & ~0xfffULL;
	int hprot = PROT_READ | ((flags & MAP_SHARED) ? (int)(prot & PROT_WRITE) : PROT_WRITE);
	int hflags = (int)(flags & ~(uint64_t)(MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_GROWSDOWN |
					       MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED));
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if ((flags & MAP_FIXED) && run_pt_range(r, addr, len, RUN_PROT_OWNED))
			hflags |= MAP_FIXED;
		else
			hflags |= MAP_FIXED_NOREPLACE;
	}
	void *p = mmap((void *)(uintptr_t)addr, len, hprot, hflags, fd, (off_t)off);
	if (p == MAP_FAILED)
		return -errno;
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && p != (void *)(uintptr_t)addr) {
		munmap(p, len);
		return -ENOMEM;
	}
	run_pt_set(r, (uint64_t)(uintptr_t)p, len, guest_prot(prot));
	mem_changed(r, (uint64_t)(uintptr_t)p, len);
	return (long)(uintptr_t)p;
}

static long sys_munmap(struct runner *r, uint64_t addr, uint64_t len)
{
	if (addr & 0xfff)
		return -EINVAL;
	len = (len + 4095) & ~0xfffULL;
	for (uint64_t a = addr; a < addr + len; a += 4096) {
		if (run_pt_get(r, a) & RUN_PROT_OWNED) {
			munmap((void *)(uintptr_t)a, 4096);
			run_pt_set(r, a, 4096, 0);
		}
	}
	mem_changed(r, addr, len);
	return 0;
}

static long sys_mprotect(struct runner *r, uint64_t addr, uint64_t len, uint64_t prot)
{
	if (addr & 0xfff)
		return -EINVAL;
	len = (len + 4095) & ~0xfffULL;
	if (!run_pt_range(r, addr, len, RUN_PROT_OWNED))
		return -ENOMEM;
	run_pt_set(r, addr, len, guest_prot(prot));
	mem_changed(r, addr, len);
	return 0;
}

static long sys_rt_sigaction(struct runner *r, int sig, uint64_t act, uint64_t old)
{
	if (sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP)
		return -EINVAL;
	if (old)
		memcpy((void *)(uintptr_t)old, &r->sig[sig], sizeof(struct run_sigaction));
	if (act) {
		memcpy(&r->sig[sig], (const void *)(uintptr_t)act, sizeof(struct run_sigaction));
		/* Ignore and default act on the host; guest handlers are recorded only. */
		uint64_t h = r->sig[sig].handler;
		signal(sig, h == (uint64_t)(uintptr_t)SIG_IGN ? SIG_IGN : SIG_DFL);
	}
	return 0;
}

/* fork, vfork and clone without CLONE_VM|CLONE_THREAD all become a host fork. */
static long sys_fork(struct runner *r, uint64_t flags, uint64_t newsp, uint64_t ptid,
		     uint64_t ctid, uint64_t tls)
{
	struct soft_cpu *c = r->cpu;
	if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
		return -ENOSYS; /* threads are not supported by this runner */
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		soft_cpu_after_fork(c); /* not its parent's JIT arena */
		if (newsp)
			c->gpr[SOFT_RSP] = newsp;
		if (flags & CLONE_SETTLS)
			c->fs_base = tls;
		if ((flags & CLONE_CHILD_SETTID) && ctid)
			*(int *)(uintptr_t)ctid = (int)getpid();
		return 0;
	}
	if ((flags & CLONE_PARENT_SETTID) && ptid)
		*(int *)(uintptr_t)ptid = pid;
	return pid;
}

static bool is_self_exe(const char *p)
{
	return strcmp(p, "/proc/self/exe") == 0;
}

/* execve: run the new program under a fresh runner (static ELF), else natively. */
static long sys_execve(struct runner *r, const char *path, char **argv, char **envp)
{
	const char *target = is_self_exe(path) ? r->guest_exe : path;
	char hdr[20] = { 0 };
	int fd = open(target, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, hdr, sizeof(hdr));
	close(fd);
	if (n < 20 || memcmp(hdr, "\177ELF", 4) != 0) {
		execve(target, argv, envp);
		return -errno;
	}
	int argc = 0;
	while (argv[argc])
		argc++;
	char **nargv = calloc((size_t)argc + 5, sizeof(char *));
	if (!nargv)
		return -ENOMEM;
	int k = 0;
	nargv[k++] = r->self_exe;
	nargv[k++] = "--argv0";
	nargv[k++] = argc ? argv[0] : (char *)target;
	nargv[k++] = (char *)target;
	for (int i = 1; i < argc; i++)
		nargv[k++] = argv[i];
	execve(r->self_exe, nargv, envp);
	free(nargv);
	return -errno;
}

static long sys_readlink(struct runner *r, int dirfd, const char *path, char *buf, size_t len)
{
	if (is_self_exe(path)) {
		size_t n = strlen(r->guest_exe);
		if (n > len)
			n = len;
		memcpy(buf, r->guest_exe, n);
		return (long)n;
	}
	long rc = dirfd == AT_FDCWD - 1000 ? 0 : readlinkat(dirfd, path, buf, len);
	return rc < 0 ? -errno : rc;
}

bool run_syscall(struct runner *r, int *exit_code)
{
	struct soft_cpu *c = r->cpu;
	long nr = (long)c->gpr[SOFT_RAX], rc;
	switch (nr) {
	case SYS_exit:
	case SYS_exit_group:
		*exit_code = (int)(A(0) & 0xff);
		return false;
	case SYS_brk: rc = sys_brk(r, A(0)); break;
	case SYS_mmap: rc = sys_mmap(r, A(0), A(1), A(2), A(3), (int)A(4), A(5)); break;
	case SYS_munmap: rc = sys_munmap(r, A(0), A(1)); break;
	case SYS_mprotect: rc = sys_mprotect(r, A(0), A(1), A(2)); break;
	case SYS_mremap: rc = -ENOMEM; break;
	case SYS_madvise: rc = 0; break;
	case SYS_arch_prctl:
		if (A(0) == 0x1002) { /* ARCH_SET_FS */
			c->fs_base = A(1);
			rc = 0;
		} else if (A(0) == 0x1003) {
			*(uint64_t *)(uintptr_t)A(1) = c->fs_base;
			rc = 0;
		} else if (A(0) == 0x1001) {
			c->gs_base = A(1);
			rc = 0;
		} else {
			rc = -EINVAL;
		}
		break;
	case SYS_set_tid_address: rc = (long)syscall(SYS_gettid); break;
	case SYS_set_robust_list: rc = 0; break;
	case SYS_rseq: rc = -ENOSYS; break;
	case SYS_sigaltstack: rc = 0; break;
	case SYS_rt_sigaction: rc = sys_rt_sigaction(r, (int)A(0), A(1), A(2)); break;
	case SYS_fork: rc = sys_fork(r, SIGCHLD, 0, 0, 0, 0); break;
	case SYS_vfork: rc = sys_fork(r, CLONE_VFORK | SIGCHLD, 0, 0, 0, 0); break;
	case SYS_clone: rc = sys_fork(r, A(0), A(1), A(2), A(3), A(4)); break;
	case SYS_execve:
		rc = sys_execve(r, (const char *)(uintptr_t)A(0), (char **)(uintptr_t)A(1),
				(char **)(uintptr_t)A(2));
		break;
	case SYS_readlink:
		rc = sys_readlink(r, AT_FDCWD, (const char *)(uintptr_t)A(0),
				  (char *)(uintptr_t)A(1), A(2));
		break;
	case SYS_readlinkat:
		rc = sys_readlink(r, (int)A(0), (const char *)(uintptr_t)A(1),
				  (char *)(uintptr_t)A(2), A(3));
		break;
	default:
		if (!passthrough(nr)) {
			if (getenv("HARDY_CPU_RUN_TRACE"))
				fprintf(stderr, "hardy-cpu-run: unsupported syscall %ld\n", nr);
			rc = -ENOSYS;
			break;
		}
		if (nr == SYS_read || nr == SYS_pread64) {
			/* Buffers the host writes into must be guest-writable memory. */
			if (A(2) && !run_pt_range(r, A(1), A(2), RUN_PROT_OWNED | RUN_PROT_W)) {
				rc = -EFAULT;
				break;
			}
		} else if (nr == SYS_write || nr == SYS_pwrite64) {
			if (A(2) && !run_pt_range(r, A(1), A(2), RUN_PROT_OWNED | RUN_PROT_R)) {
				rc = -EFAULT;
				break;
			}
		}
		rc = syscall(nr, A(0), A(1), A(2), A(3), A(4), A(5));
		if (rc == -1)
			rc = -errno;
		break;
	}
	c->gpr[SOFT_RAX] = (uint64_t)rc;
	return true;
}
