/* The system CPU on the bare rig: long-mode state set by hand runs kernel code through its own
 * page walk (RAM reached only through ram_page). */
#include "check.h"
#include "soft_sys_rig.h"

static void test_long_mode_load_through_page_walk(void)
{
	struct rig r;
	rig_init(&r);
	rig_long_mode(&r);
	/* mov 0x200008, %rax; hlt */
	static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x20, 0x00, 0xf4 };
	rig_code(&r, RIG_CODE, code, sizeof(code));
	rig_put64(&r, 0x200008, 0x1122334455667788ULL);
	enum soft_exit e = rig_run(&r, 1000);
	CHECK(e == SOFT_EXIT_HALT, "exit %d", e);
	CHECK(r.cpu->gpr[SOFT_RAX] == 0x1122334455667788ULL, "rax %#llx",
	      (unsigned long long)r.cpu->gpr[SOFT_RAX]);
	rig_fini(&r);
}

int main(void)
{
	test_long_mode_load_through_page_walk();
	printf("soft_system: ok\n");
	return 0;
}
