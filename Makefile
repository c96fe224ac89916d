# cairn build. Sources are found by wildcard: a new file in src/<module>/ is built
# into libcairn.a, a new tests/unit/<module>/test_*.c becomes a test binary,
# a new tests/fuzz/fuzz_*.c a libFuzzer target.
#
#   make            build the node binary, simulator, tests and benchmarks (build/)
#   make test       install missing packages, build, run the whole suite
#   make devnet     install missing packages, build, start a local 4-validator network
#   make SAN=1      the same build with AddressSanitizer + UBSan (build-san/)

SAN   ?=
CC    ?= cc
BUILD ?= $(if $(SAN),build-san,build)

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla \
               -Wno-missing-field-initializers -g -Isrc -Iinclude -MMD -MP
ifeq ($(SAN),)
CFLAGS_OPT := -O2
else
CFLAGS_OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
CFLAGS  += $(CFLAGS_BASE) $(CFLAGS_OPT)
SAN_FLAGS := -fsanitize=address,undefined
LDFLAGS += $(if $(SAN),$(SAN_FLAGS))
LIBS    := -lsodium -lrocksdb -luv -ljansson -linih -lwebsockets -lcurl -lpthread -lm

LIB_SRC   := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC   := $(wildcard src/cli/*.c)
SIM_SRC   := $(wildcard sim/*.c)
TEST_SRC  := $(wildcard tests/unit/*/test_*.c)
TESTLIB_SRC := $(wildcard tests/unit/support/*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
SIM_OBJ   := $(SIM_SRC:%.c=$(BUILD)/%.o)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
TEST_BIN  := $(TEST_SRC:%.c=$(BUILD)/%)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/%)
LIBCAIRN  := $(BUILD)/libcairn.a

.PHONY: all deps test test-unit test-san test-sim test-fuzz test-integration \
        devnet fuzz sim-long bench check-pure clean
.DEFAULT_GOAL := all

all: check-pure $(BUILD)/cairn $(if $(SIM_SRC),$(BUILD)/cairn-sim) $(TEST_BIN) $(BENCH_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBCAIRN): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/cairn: $(CLI_OBJ) $(LIBCAIRN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/cairn-sim: $(SIM_OBJ) $(LIBCAIRN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(TESTLIB_OBJ) $(LIBCAIRN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBCAIRN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Pure modules never touch the network, the disk or the clock (../shared/STYLE.md).
check-pure:
	@! grep -rnE '#include *[<"](uv\.h|rocksdb/c\.h|sys/socket\.h|lws|libwebsockets\.h)' \
	    src/codec src/chain src/consensus || { echo "pure module includes an I/O header"; exit 1; }
	@! grep -rnE '\b(clock_gettime|gettimeofday|time\(NULL\)|rand\(\))' \
	    src/codec src/chain src/consensus || { echo "pure module reads the clock"; exit 1; }

deps:
	@bash scripts/deps.sh

test: deps
	@bash scripts/test.sh

devnet: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/cairn devnet --home $${CAIRN_DEVNET_HOME:-$$HOME/.cairn-devnet}

# libFuzzer targets: clang, with the library rebuilt for coverage and sanitizers.
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_BUILD)/libcairn.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libcairn.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.a,$^) $(LIBS)
fuzz: $(FUZZ_BIN)

sim-long: all
	./$(BUILD)/cairn-sim --seeds 5000 --heights 200

bench: all
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
