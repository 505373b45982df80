/* The fuzzers' one way to read their input: the next `bytes` bytes as a little-endian number,
 * zeros once the input has run out (so every input, however short, drives a whole run). */
#ifndef HARDY_TESTS_FUZZ_TAKE_H
#define HARDY_TESTS_FUZZ_TAKE_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t take(const uint8_t **p, size_t *left, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && *left; i++, (*left)--)
		v |= (uint64_t)*(*p)++ << (8 * i);
	return v;
}

#endif
