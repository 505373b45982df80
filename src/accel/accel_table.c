/* The backend table: every CPU backend hardy has, in the order --accel auto tries them. */
#include <string.h>

#include "accel/accel.h"

const struct accel_ops *const accel_table[] = { &accel_kvm_ops, &accel_soft_ops };
const unsigned accel_table_len = sizeof(accel_table) / sizeof(accel_table[0]);

const struct accel_ops *accel_find(const char *name)
{
	for (unsigned i = 0; i < accel_table_len; i++)
		if (strcmp(accel_table[i]->name, name) == 0)
			return accel_table[i];
	return NULL;
}

void accel_process_init(void)
{
	for (unsigned i = 0; i < accel_table_len; i++)
		if (accel_table[i]->process_init)
			accel_table[i]->process_init();
}
