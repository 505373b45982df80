/* The system CPU's code writes (vm_code.c, code.c): a guest write to a page holding decoded code
 * makes only that page's blocks stale; code on other pages stays cached; the new bytes run
 * (another page, the same page after a jump, the second page of an instruction that spans two);
 * on the JIT and on the interpreter. */
#include "check.h"
#include "soft_sys_rig.h"
#include "accel/soft/soft_sys.h"
#include "accel/soft/soft_code.h"

/* The cached block at guest rip va that is current for its page, if any. */
static struct soft_block *cached_block(struct rig *r, uint64_t va)
{
	struct soft_code_cache *cc = r->cpu->cache;
	for (unsigned s = 0; s < SOFT_HASH_SIZE; s++)
		for (struct soft_block *b = cc->hash[s]; b; b = b->hnext)
			if (b->va == va && b->gen == soft_vm_code_page_gen(r->vc, b->gpa))
				return b;
	return NULL;
}

static void test_other_page(int jit)
{
	SECTION("a write to another code page: its new code runs, this page's blocks stay (jit %d)",
		jit);
	struct rig r;
	rig_init(&r);
	soft_cpu_set_jit(r.cpu, jit);
	rig_long_mode(&r);
	const uint64_t a = RIG_CODE, b = RIG_CODE + 0x2000;
	static const uint8_t fn[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3 }; /* mov eax, 1; ret */
	static const uint8_t main_code[] = {
		0xe8, 0xfb, 0x1f, 0x00, 0x00,                   /* call b */
		0x89, 0xc3,                                     /* mov ebx, eax */
		0xc6, 0x04, 0x25, 0x01, 0x20, 0x10, 0x00, 0x02, /* mov byte [b + 1], 2 */
		0xe8, 0xec, 0x1f, 0x00, 0x00,                   /* call b */
		0x01, 0xc3,                                     /* add ebx, eax */
		0xf4 };                                         /* hlt */
	rig_code(&r, b, fn, sizeof(fn));
	rig_code(&r, a, main_code, sizeof(main_code));
	uint32_t gen_a = soft_vm_code_page_gen(r.vc, a), gen_b = soft_vm_code_page_gen(r.vc, b);
	enum soft_exit e = rig_run(&r, 1000);
	CHECK(e == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RBX] == 3, "exit %d ebx %llu", e,
	      (unsigned long long)r.cpu->gpr[SOFT_RBX]);
	CHECK(soft_vm_code_page_gen(r.vc, a) == gen_a && soft_vm_code_page_gen(r.vc, b) != gen_b,
	      "only the written page has a new generation");
	/* The first block of a was decoded before the write and is still cached. */
	struct soft_block *first = cached_block(&r, a);
	CHECK(first && first->gen == gen_a, "block at a kept");
	struct soft_block *fb = cached_block(&r, b);
	CHECK(fb && fb->gen == soft_vm_code_page_gen(r.vc, b), "b decoded again");
	/* Again, warm: the same block of a runs, b's new code (2) is patched to 2 again. */
	r.cpu->rip = a;
	e = rig_run(&r, 1000);
	CHECK(e == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RBX] == 4, "warm: exit %d ebx %llu", e,
	      (unsigned long long)r.cpu->gpr[SOFT_RBX]);
	CHECK(cached_block(&r, a) == first, "block at a still the same");
	rig_fini(&r);
}

static void test_same_page(int jit)
{
	SECTION("a write to the running page takes effect after a jump, every time (jit %d)", jit);
	struct rig r;
	rig_init(&r);
	soft_cpu_set_jit(r.cpu, jit);
	rig_long_mode(&r);
	uint8_t code[0x26] = {
		0x88, 0x0c, 0x25, 0x21, 0x00, 0x10, 0x00, /* mov [RIG_CODE + 0x21], cl */
		0xeb, 0x17 };                             /* jmp RIG_CODE + 0x20 */
	static const uint8_t tail[] = { 0xb8, 0x05, 0x00, 0x00, 0x00, 0xf4 }; /* mov eax, 5; hlt */
	memcpy(code + 0x20, tail, sizeof(tail));
	rig_code(&r, RIG_CODE, code, sizeof(code));
	for (unsigned v = 7; v < 12; v += 2) {
		r.cpu->rip = RIG_CODE;
		r.cpu->gpr[SOFT_RCX] = v;
		enum soft_exit e = rig_run(&r, 1000);
		CHECK(e == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == v, "exit %d eax %llu want %u",
		      e, (unsigned long long)r.cpu->gpr[SOFT_RAX], v);
	}
	rig_fini(&r);
}

static void test_spanning_insn(int jit)
{
	SECTION("a write to the second page of an instruction spanning two pages (jit %d)", jit);
	struct rig r;
	rig_init(&r);
	soft_cpu_set_jit(r.cpu, jit);
	rig_long_mode(&r);
	/* mov [0x102000], cl; jmp 0x101ffe; there: mov eax, imm32 (imm bytes 1..3 on the
	 * next page); hlt */
	static const uint8_t main_code[] = { 0x88, 0x0c, 0x25, 0x00, 0x20, 0x10, 0x00,
					     0xe9, 0xf2, 0x1f, 0x00, 0x00 };
	static const uint8_t span[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4 };
	rig_code(&r, RIG_CODE, main_code, sizeof(main_code));
	rig_code(&r, 0x101ffe, span, sizeof(span));
	for (unsigned v = 3; v < 9; v += 2) {
		r.cpu->rip = RIG_CODE;
		r.cpu->gpr[SOFT_RCX] = v;
		enum soft_exit e = rig_run(&r, 1000);
		CHECK(e == SOFT_EXIT_HALT && r.cpu->gpr[SOFT_RAX] == (1u | v << 8),
		      "exit %d eax %#llx want %#x", e, (unsigned long long)r.cpu->gpr[SOFT_RAX],
		      1u | v << 8);
	}
	rig_fini(&r);
}

int main(void)
{
	for (int jit = 1; jit >= 0; jit--) {
		test_other_page(jit);
		test_same_page(jit);
		test_spanning_insn(jit);
	}
	printf("soft_code_write: ok\n");
	return 0;
}
