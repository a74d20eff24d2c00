# cutover - build, test, fuzz, benchmark and demo.
#
#   make            build ./cutover
#   make test       install missing Debian packages, then unit + end-to-end
#                   tests, plain and under ASan+UBSan, and 3 s of each
#                   fuzzer; ends with a summary line
#   make valgrind   unit + end-to-end tests with every cutover run under
#                   valgrind memcheck (slow; never part of make test)
#   make bench      side-by-side benchmarks (never part of make test)
#   make demo       run cutover live on haproxy-example.cfg
#   make fuzz       build the libFuzzer targets of tests/fuzz/ with clang
#                   (into build/fuzz/) and run each for FUZZ_SECONDS
#                   (default 60); crashes go to build/fuzz/crashes/
#
# Every source under src/ (but main.c) goes into one static library that
# the binary, the unit tests and the fuzzers link (the fuzzers their own
# clang-built copy, build/fuzz/libcutover.a).

CC      ?= cc
PKGS    := libuv jansson libcurl yaml-0.1
BUILD   ?= build
SAN     ?=

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter \
           -Wno-format-truncation
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude $(PKG_CFLAGS)
LDLIBS  := $(PKG_LIBS) -lm

ifeq ($(SAN),1)
BUILD := build/asan
ALL_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS  := $(filter-out src/main.c,$(wildcard src/*.c src/util/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

# Fuzzers: clang with libFuzzer, ASan and UBSan. The library is compiled
# again for them, with coverage instrumentation, into its own object dir.
# -Wno-unknown-warning-option: WARN holds a gcc-only flag.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE $(WARN) -Wno-unknown-warning-option \
                -g -O1 $(FUZZ_SAN) -Iinclude $(PKG_CFLAGS)
FUZZ_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_DIR)/%)

.PHONY: all deps test unit e2e tools bench demo clean check-style fuzz \
	fuzz-bins valgrind

all: cutover

cutover: $(BUILD)/cutover
	@if [ "$(BUILD)" = build ]; then cp $(BUILD)/cutover cutover; fi

$(BUILD)/cutover: $(BUILD)/src/main.o $(BUILD)/libcutover.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libcutover.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcutover.a $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcutover.a \
		$(LDLIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libcutover.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcutover.a $(LDLIBS)

$(FUZZ_DIR)/obj/%.o: %.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/libcutover.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h \
		$(FUZZ_DIR)/libcutover.a $(wildcard include/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_DIR)/libcutover.a $(LDLIBS)

tools: $(TOOL_BINS)
unit-bins: $(UNIT_BINS)
fuzz-bins: $(FUZZ_BINS)

deps:
	@sh contrib/install-deps.sh

check-style:
	@sh contrib/check-style

# The test driver builds both variants itself (plain and SAN=1).
test: deps
	@sh tests/run.sh

unit: cutover unit-bins
	@sh tests/run.sh --unit-only

# Plain build; logs in build/valgrind/. E2E_TIME_MULT=N to slow down more.
valgrind: deps
	@sh tests/run.sh --valgrind

bench: deps
	@bash tests/bench/run.sh

demo: deps
	@bash contrib/demo.sh

# FUZZ_TARGETS="plan sess" runs only those (names as in tests/fuzz/corpus/).
fuzz: fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_TARGETS)

clean:
	rm -rf build cutover
