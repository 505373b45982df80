# hardy build. `make` builds build/hardy; `make test` runs every test; `make guest` builds the
# default guest into build/guest/ (`make rootfs`: a Debian disk image beside it). SAN=1 builds
# the sanitized variant under build/san/.
CC      ?= gcc
BUILD   ?= build
OPT     ?= -O2 -g
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS_COMMON := -std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wvla \
                 -D_GNU_SOURCE -Isrc -MMD -MP
LDLIBS  := -lpthread -lm -lZydis -luring -lslirp -lmicrohttpd -ljson-c -lcurl
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# Everything under src/ except main.c forms the library that tools and unit tests link against.
LIB_SRCS  := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))

OBJ      := $(BUILD)/obj
SANOBJ   := $(BUILD)/san/obj
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(SANOBJ)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/san/tests/%)

.PHONY: all test unit integration guest guest-generic rootfs clean bench bench-blk
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
# The difftest's reference format, tested on every host (only 32-bit-capable ones record it).
$(BUILD)/san/tests/test_difftest_ref: $(addprefix $(SANOBJ)/tests/difftest/,reference.o forms.o forms32.o)

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

.SECONDEXPANSION:

# The tests' own programs, static so that they run anywhere: tests/guest-bin/ runs inside the
# guest (test_initrd puts them in /bin), tests/host-bin/ on the host side of a test (e.g.
# hold-lock, an OFD lock on an image as a second VMM holds it); the L1 gets both.
GUEST_BINS := $(patsubst tests/guest-bin/%.c,$(BUILD)/guest-bin/%,$(wildcard tests/guest-bin/*.c))
HOST_BINS := $(patsubst tests/host-bin/%.c,$(BUILD)/host-bin/%,$(wildcard tests/host-bin/*.c))
$(BUILD)/guest-bin/% $(BUILD)/host-bin/%: tests/$$(notdir $$(@D))/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_COMMON) -O2 -static -o $@ $< -lpthread

integration: $(BUILD)/hardy $(BUILD)/san/hardy guest guest-generic rootfs kut $(TEST_GUESTS) $(GUEST_BINS) $(HOST_BINS)
	tests/harness/run-integration

test: unit difftest cpu-run-test fuzz integration

# kvm-unit-tests' prebuilt kernels ($$HARDY_KUT_DIR or ../shared/kvm-unit-tests) into build/kut,
# for tests/integration/kvm_unit_tests.sh and the nested L1 (run-integration does it too).
.PHONY: kut
kut:
	tests/harness/kut-stage

guest:
	guest/build.sh $(BUILD)/guest

# A Debian 12 ext4 image for root=/dev/vda (needs root; minutes the first time, cached after).
rootfs: guest
	guest/build-rootfs.sh $(BUILD)/guest

bench: $(BUILD)/hardy guest $(GUEST_BINS)
	bench/boot.sh
	bench/virtio-net.sh
	bench/virtio-blk.sh
	bench/api.sh

bench-blk: $(BUILD)/hardy guest $(BUILD)/guest-bin/blkbench
	bench/virtio-blk.sh

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
# Compatibility-mode tests are judged against the host CPU where it runs 32-bit code (and
# re-checked against the recorded reference), else against the reference (docs/soft-cpu.md).
COMPAT_REF := tests/difftest/compat.ref
.PHONY: difftest difftest-long difftest-reference cpu-run-test bench-cpu bench-soft clean-soft
difftest: $(BUILD)/difftest
	$(BUILD)/difftest --level 0 --random 20000 --reference $(COMPAT_REF)

difftest-long: $(BUILD)/difftest
	$(BUILD)/difftest --level 1 --random 2000000 --seed $$(date +%s) --reference $(COMPAT_REF)

# Re-records $(COMPAT_REF): directly where the host runs 32-bit code, else in the nested L1
# (needs make guest).
difftest-reference: $(BUILD)/difftest
	tests/difftest/record-reference.sh

cpu-run-test: $(BUILD)/hardy-cpu-run
	tests/cpu-run/busybox.sh $(BUILD)/hardy-cpu-run
	tools/cpu-run/test-i386.sh $(BUILD)/hardy-cpu-run

bench-cpu: $(BUILD)/hardy-cpu-run
	bench/cpu.sh

# hardy --accel soft against QEMU -accel tcg, booting the default and the generic kernel.
bench-soft: $(BUILD)/hardy guest guest-generic
	bench/soft-boot.sh

clean: clean-soft
clean-soft:
	rm -f $(BUILD)/hardy-cpu-run $(BUILD)/difftest

# ---- device fuzzer (tests/fuzz/): libFuzzer under ASan/UBSan, natively, no KVM ----
# The machine's devices plus what they link against; a new device directory joins here.
FUZZ_CC    ?= clang-14
FUZZ_TIME  ?= 40
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS  := tests/fuzz/fuzz_devices.c $(sort $(wildcard src/devices/*.c src/devices/virtio/*.c src/devices/x86/*.c)) src/core/bus.c \
              src/core/clock.c src/core/config.c src/core/console.c src/core/console_out.c src/core/event_loop.c \
              src/core/guest_mem.c src/vm/machine.c src/core/resources.c src/backends/entropy.c \
              src/backends/disk_raw.c src/backends/disk_queue.c src/backends/disk_uring.c \
              src/arch/x86/acpi_pci.c src/arch/x86/aml.c \
              src/util/error.c src/util/term.c
FUZZ_CORPUS  := tests/fuzz/corpus/devices
FUZZ_CRASHES := tests/fuzz/crashes/devices
FUZZER       := $(BUILD)/fuzz/fuzz_devices
# The virtqueue walker alone, against any ring contents.
FUZZ_VQ_SRCS    := tests/fuzz/fuzz_virtqueue.c src/devices/virtio/queue.c src/core/guest_mem.c \
                   src/util/error.c
FUZZ_VQ_TIME    ?= 20
FUZZ_VQ_CORPUS  := tests/fuzz/corpus/virtqueue
FUZZ_VQ_CRASHES := tests/fuzz/crashes/virtqueue
FUZZER_VQ       := $(BUILD)/fuzz/fuzz_virtqueue
# virtio-net's requests (headers and chains of every shape) against a fake backend.
FUZZ_NET_SRCS    := tests/fuzz/fuzz_virtio_net.c $(filter-out tests/fuzz/fuzz_devices.c,$(FUZZ_SRCS))
FUZZ_NET_TIME    ?= 20
FUZZ_NET_CORPUS  := tests/fuzz/corpus/virtio_net
FUZZ_NET_CRASHES := tests/fuzz/crashes/virtio_net
FUZZER_NET       := $(BUILD)/fuzz/fuzz_virtio_net
# virtio-vsock's packets and protocol engine, over a fake host backend.
FUZZ_VS_SRCS    := tests/fuzz/fuzz_vsock.c src/devices/virtio/vsock_proto.c
FUZZ_VS_TIME    ?= 20
FUZZ_VS_CORPUS  := tests/fuzz/corpus/vsock
FUZZ_VS_CRASHES := tests/fuzz/crashes/vsock
FUZZER_VS       := $(BUILD)/fuzz/fuzz_vsock
# The API's request handling and config file reader (no sockets), fake VMM callbacks.
FUZZ_API_SRCS    := tests/fuzz/fuzz_api.c $(filter-out src/api/http_server.c src/api/api_socket.c,\
                    $(sort $(wildcard src/api/*.c))) src/cli/parse.c src/core/config.c src/util/error.c
FUZZ_API_TIME    ?= 20
FUZZ_API_CORPUS  := tests/fuzz/corpus/api
FUZZ_API_CRASHES := tests/fuzz/crashes/api
FUZZER_API       := $(BUILD)/fuzz/fuzz_api
# virtio-blk's request parsing alone (blk_req.c), chains of every shape on a memfd image.
FUZZ_BLK_SRCS    := tests/fuzz/fuzz_blk.c src/devices/virtio/blk_req.c src/devices/virtio/queue.c \
                    src/backends/disk_raw.c src/backends/disk_queue.c src/backends/disk_uring.c \
                    src/core/guest_mem.c src/util/error.c
FUZZ_BLK_TIME    ?= 20
FUZZ_BLK_CORPUS  := tests/fuzz/corpus/blk
FUZZ_BLK_CRASHES := tests/fuzz/crashes/blk
FUZZER_BLK       := $(BUILD)/fuzz/fuzz_blk
.PHONY: fuzz fuzz-regress fuzz-long fuzz-corpus clean-fuzz
clean: clean-fuzz
clean-fuzz:
	rm -f $(FUZZER) $(FUZZER_VQ) $(FUZZER_NET) $(FUZZER_VS) $(FUZZER_API) $(FUZZER_BLK)

$(FUZZER): $(FUZZ_SRCS) $(shell find src -name '*.h')
	@mkdir -p $(BUILD)/fuzz/corpus
	$(FUZZ_CC) -std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -D_GNU_SOURCE -Isrc \
		-O1 -g $(FUZZ_FLAGS) -o $@ $(FUZZ_SRCS) -lpthread -luring

$(FUZZER_VQ): $(FUZZ_VQ_SRCS) $(shell find src -name '*.h')
	@mkdir -p $(BUILD)/fuzz/corpus-virtqueue
	$(FUZZ_CC) -std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -D_GNU_SOURCE -Isrc \
		-O1 -g $(FUZZ_FLAGS) -o $@ $(FUZZ_VQ_SRCS)

$(FUZZER_NET): $(FUZZ_NET_SRCS) $(shell find src -name '*.h') tests/unit/virtio_driver.h
	@mkdir -p $(BUILD)/fuzz/corpus-virtio-net
	$(FUZZ_CC) -std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -D_GNU_SOURCE -Isrc \
		-Itests/unit -O1 -g $(FUZZ_FLAGS) -o $@ $(FUZZ_NET_SRCS) -lpthread -luring

$(FUZZER_VS): $(FUZZ_VS_SRCS) $(shell find src -name '*.h')
	@mkdir -p $(BUILD)/fuzz/corpus-vsock
	$(FUZZ_CC) -std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -D_GNU_SOURCE -Isrc \
		-O1 -g $(FUZZ_FLAGS) -o $@ $(FUZZ_VS_SRCS)

$(FUZZER_API): $(FUZZ_API_SRCS) $(shell find src -name '*.h')
	@mkdir -p $(BUILD)/fuzz/corpus-api
	$(FUZZ_CC) -std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -D_GNU_SOURCE -Isrc \
		-O1 -g $(FUZZ_FLAGS) -o $@ $(FUZZ_API_SRCS) -ljson-c

$(FUZZER_BLK): $(FUZZ_BLK_SRCS) $(shell find src -name '*.h')
	@mkdir -p $(BUILD)/fuzz/corpus-blk
	$(FUZZ_CC) -std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -D_GNU_SOURCE -Isrc \
		-O1 -g $(FUZZ_FLAGS) -o $@ $(FUZZ_BLK_SRCS) -luring

# Every kept input once (the corpus and every crash ever found), then FUZZ_TIME seconds of new
# inputs; new corpus entries go to build/fuzz/corpus (make fuzz-corpus keeps them), a crash to
# build/fuzz/crash-* (fix it, then add it to $(FUZZ_CRASHES)).
fuzz-regress: $(FUZZER) $(FUZZER_VQ) $(FUZZER_NET) $(FUZZER_VS) $(FUZZER_API) $(FUZZER_BLK)
	$(FUZZER) -runs=0 $(FUZZ_CORPUS) $(FUZZ_CRASHES)
	$(FUZZER_VQ) -runs=0 $(FUZZ_VQ_CORPUS) $(FUZZ_VQ_CRASHES)
	$(FUZZER_NET) -runs=0 $(FUZZ_NET_CORPUS) $(FUZZ_NET_CRASHES)
	$(FUZZER_VS) -runs=0 $(FUZZ_VS_CORPUS) $(FUZZ_VS_CRASHES)
	$(FUZZER_API) -runs=0 $(FUZZ_API_CORPUS) $(FUZZ_API_CRASHES)
	$(FUZZER_BLK) -runs=0 $(FUZZ_BLK_CORPUS) $(FUZZ_BLK_CRASHES)

fuzz: fuzz-regress
	$(FUZZER) -max_total_time=$(FUZZ_TIME) -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus $(FUZZ_CORPUS)
	$(FUZZER_VQ) -max_total_time=$(FUZZ_VQ_TIME) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-virtqueue $(FUZZ_VQ_CORPUS)
	$(FUZZER_NET) -max_total_time=$(FUZZ_NET_TIME) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-virtio-net $(FUZZ_NET_CORPUS)
	$(FUZZER_VS) -max_total_time=$(FUZZ_VS_TIME) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-vsock $(FUZZ_VS_CORPUS)
	$(FUZZER_API) -max_total_time=$(FUZZ_API_TIME) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-api $(FUZZ_API_CORPUS)
	$(FUZZER_BLK) -max_total_time=$(FUZZ_BLK_TIME) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-blk $(FUZZ_BLK_CORPUS)

fuzz-long: FUZZ_TIME = 3600
fuzz-long: FUZZ_VQ_TIME = 3600
fuzz-long: FUZZ_NET_TIME = 3600
fuzz-long: FUZZ_VS_TIME = 3600
fuzz-long: FUZZ_API_TIME = 3600
fuzz-long: FUZZ_BLK_TIME = 3600
fuzz-long: fuzz

# Minimizes build/fuzz/corpus* into the kept corpora (commit what it adds).
fuzz-corpus: $(FUZZER) $(FUZZER_NET) $(FUZZER_VS) $(FUZZER_API) $(FUZZER_BLK)
	$(FUZZER) -merge=1 $(FUZZ_CORPUS) $(BUILD)/fuzz/corpus
	$(FUZZER_NET) -merge=1 $(FUZZ_NET_CORPUS) $(BUILD)/fuzz/corpus-virtio-net
	$(FUZZER_VS) -merge=1 $(FUZZ_VS_CORPUS) $(BUILD)/fuzz/corpus-vsock
	$(FUZZER_API) -merge=1 $(FUZZ_API_CORPUS) $(BUILD)/fuzz/corpus-api
	$(FUZZER_BLK) -merge=1 $(FUZZ_BLK_CORPUS) $(BUILD)/fuzz/corpus-blk
