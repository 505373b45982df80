# hardy build. `make` builds build/hardy; `make test` runs every test; `make guest` builds the
# default guest into build/guest/ (`make rootfs`: a Debian disk image beside it). SAN=1 builds
# the sanitized variant under build/san/.
CC      ?= gcc
BUILD   ?= build
OPT     ?= -O2 -g
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS_COMMON := -std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wvla \
                 -D_GNU_SOURCE -Isrc -MMD -MP
LDLIBS  := -lpthread -lm -lZydis
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# Everything under src/ except main.c forms the library that tools and unit tests link against.
LIB_SRCS  := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))

OBJ      := $(BUILD)/obj
SANOBJ   := $(BUILD)/san/obj
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(SANOBJ)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/san/tests/%)

.PHONY: all test unit integration guest guest-generic rootfs clean bench
all: $(BUILD)/hardy

$(BUILD)/hardy: $(OBJ)/src/main.o $(LIB_OBJS)
	$(CC) $(OPT) -o $@ $^ $(LDLIBS)

$(BUILD)/san/hardy: $(SANOBJ)/src/main.o $(SAN_LIB_OBJS)
	$(CC) $(OPT) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(OPT) -DHARDY_VERSION='"$(VERSION)"' -c -o $@ $<

$(SANOBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(OPT) $(SANFLAGS) -DHARDY_VERSION='"$(VERSION)"' -c -o $@ $<

$(BUILD)/san/tests/%: $(SANOBJ)/tests/unit/%.o $(SAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests need no KVM; integration tests go through the harness, which runs them directly
# when /dev/kvm opens and inside a nested L1 under QEMU otherwise.
unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# Test guests: tiny 64-bit ELF kernels that misbehave on purpose (tests/guests/).
TEST_GUESTS := $(patsubst tests/guests/%.S,$(BUILD)/guests/%.elf,$(wildcard tests/guests/*.S))
$(BUILD)/guests/%.elf: tests/guests/%.S tests/guests/serial.inc tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(CC) -c -Itests/guests -o $(BUILD)/guests/$*.o $<
	$(LD) -static -nostdlib -T tests/guests/guest.ld -o $@ $(BUILD)/guests/$*.o

# A second unmodified kernel (Debian's generic one) for the tests.
guest-generic:
	guest/fetch-kernel.sh linux-image-amd64 $(BUILD)/guest-generic

integration: $(BUILD)/hardy $(BUILD)/san/hardy guest guest-generic $(TEST_GUESTS)
	tests/harness/run-integration

test: unit difftest cpu-run-test integration

guest:
	guest/build.sh $(BUILD)/guest

# A Debian 12 ext4 image for root=/dev/vda (needs root; minutes the first time, cached after).
rootfs: guest
	guest/build-rootfs.sh $(BUILD)/guest

bench: $(BUILD)/hardy guest
	bench/boot.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/san $(BUILD)/hardy

-include $(shell find $(OBJ) $(SANOBJ) -name '*.d' -type f 2>/dev/null)

# ---- software CPU: user-mode runner and differential tester (src/accel/soft/) ----
CPU_RUN_SRCS := $(sort $(wildcard tools/cpu-run/*.c))
CPU_RUN_OBJS := $(CPU_RUN_SRCS:%.c=$(OBJ)/%.o)
all: $(BUILD)/hardy-cpu-run

$(BUILD)/hardy-cpu-run: $(CPU_RUN_OBJS) $(LIB_OBJS)
	$(CC) $(OPT) -o $@ $^ $(LDLIBS)

DIFFTEST_SRCS := $(sort $(wildcard tests/difftest/*.c))
DIFFTEST_OBJS := $(DIFFTEST_SRCS:%.c=$(OBJ)/%.o)
$(BUILD)/difftest: $(DIFFTEST_OBJS) $(LIB_OBJS)
	$(CC) $(OPT) -o $@ $^ $(LDLIBS)

# Bounded differential pass (make test) and the long one on demand.
.PHONY: difftest difftest-long cpu-run-test bench-cpu clean-soft
difftest: $(BUILD)/difftest
	$(BUILD)/difftest --level 0 --random 20000

difftest-long: $(BUILD)/difftest
	$(BUILD)/difftest --level 1 --random 2000000 --seed $$(date +%s)

cpu-run-test: $(BUILD)/hardy-cpu-run
	tests/cpu-run/busybox.sh $(BUILD)/hardy-cpu-run
	tools/cpu-run/test-i386.sh $(BUILD)/hardy-cpu-run

bench-cpu: $(BUILD)/hardy-cpu-run
	bench/cpu.sh

clean: clean-soft
clean-soft:
	rm -f $(BUILD)/hardy-cpu-run $(BUILD)/difftest
