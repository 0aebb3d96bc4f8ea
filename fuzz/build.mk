# libFuzzer harnesses (fuzz/fuzz_*.c), built with clang into build-fuzz/ with
# their own rules so the gcc build in $(B) is untouched.
#   make fuzz FUZZ_SECONDS=N   build, then run each harness N seconds
#   make fuzz-long             each harness to ten million inputs
#   make fuzz-build            build only
#   make fuzz-seeds            rewrite fuzz/corpus/ (seeds)
FB := build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_NAMES:%=$(FB)/bin/fuzz_%)

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            -fno-omit-frame-pointer
# Library code is instrumented for coverage; only harnesses link the driver.
FUZZ_BASE := -std=gnu11 -O1 -g -D_GNU_SOURCE -MMD -MP $(FUZZ_SAN) \
             $(PKG_CFLAGS) -Iinclude/vdev $(RUNTIME_PRIV_CFLAGS) -I$(FB)/dsl -Idsl -Icompiler -Igenerated
FUZZ_LIB_CFLAGS = $(FUZZ_BASE) -fsanitize=fuzzer-no-link -Wall \
                  -Wno-unused-function -Wno-sign-compare -Wno-unused-parameter \
                  -Wno-gnu-variable-sized-type-not-at-end \
                  -Wno-bitwise-instead-of-logical
FUZZ_HARNESS_CFLAGS = $(FUZZ_BASE) $(WARN) -Itests

# clang and its libFuzzer runtime, through the project's installer.
FUZZ_DEPS := $(FB)/.deps-ok
$(FUZZ_DEPS): scripts/install-deps.sh
	@VDEV_EXTRA_PKGS="clang libclang-rt-14-dev" ./scripts/install-deps.sh --install
	@mkdir -p $(@D) && touch $@

FUZZ_RT_OBJS := $(patsubst %.c,$(FB)/%.o,$(RUNTIME_SRCS))
FUZZ_DSL_OBJS := $(patsubst %.c,$(FB)/%.o,$(wildcard dsl/*.c)) \
                 $(FB)/dsl/parser.o $(FB)/dsl/lexer.o
FUZZ_VDEVC_OBJS := $(patsubst %.c,$(FB)/%.o,\
                   $(filter-out compiler/main.c,$(wildcard compiler/*.c)))
FUZZ_EDU_OBJS := $(FB)/generated/edu.o
# The server harness's models (fuzz/fuzz_server.c's table).
FUZZ_SERVER_MODELS := edu gpio-pci-idio-16 ivshmem pci-serial i6300esb
FUZZ_MODEL_OBJS := $(FUZZ_SERVER_MODELS:%=$(FB)/generated/%.o)

$(FB)/dsl/parser.c $(FB)/dsl/parser.h &: dsl/parser.y | $(FUZZ_DEPS)
	@mkdir -p $(@D)
	bison -Wall -o $(FB)/dsl/parser.c --defines=$(FB)/dsl/parser.h $<
$(FB)/dsl/lexer.c $(FB)/dsl/lexer.h &: dsl/lexer.l $(FB)/dsl/parser.h
	@mkdir -p $(@D)
	flex -o $(FB)/dsl/lexer.c --header-file=$(FB)/dsl/lexer.h $<
# bison's and flex's tables: edges are what tells inputs apart there; the
# comparison hooks fired on every character (half the parse time) and
# find nothing a table lookup hides.
$(FB)/dsl/%.o: $(FB)/dsl/%.c $(FB)/dsl/parser.h $(FB)/dsl/lexer.h
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -fno-sanitize-coverage=trace-cmp -c $< -o $@

$(FB)/%.o: %.c | $(FUZZ_DEPS) $(FB)/dsl/parser.h $(FB)/dsl/lexer.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -c $< -o $@
$(FB)/generated/%.o: FUZZ_LIB_CFLAGS += -DVDEV_NO_MAIN
# fuzz/cov-ignore.txt: per-input loops without hooks or checks.
FUZZ_LIB_CFLAGS += -fsanitize-coverage-ignorelist=fuzz/cov-ignore.txt \
                   -fsanitize-ignorelist=fuzz/cov-ignore.txt
# The memory transport stands in for the kernel's socket: its edges show
# how sends were cut, its comparisons (lengths against lengths) find
# nothing in the server and ran on every byte moved.
$(FB)/runtime/server/memconn.o: FUZZ_LIB_CFLAGS += \
    -fno-sanitize-coverage=trace-cmp
# Dirty bitmaps of all maps together: 4 MiB instead of 256 MiB. The same
# code and the same refusal past the limit, but an input that starts
# logging on terabytes of fd-less maps no longer spends 50 ms zeroing
# (and the kernel faulting in) a bitmap: such inputs were a hundredth of
# the corpus and half of the fuzzer's time.
$(FB)/runtime/device/dirty.o: FUZZ_LIB_CFLAGS += \
    -D'DIRTY_MAX_TOTAL_BYTES=(4ull << 20)'
$(FB)/runtime/device/dirty.o $(FB)/runtime/server/memconn.o: fuzz/build.mk
$(FUZZ_RT_OBJS) $(FUZZ_MODEL_OBJS): fuzz/cov-ignore.txt
$(FB)/fuzz/%.o: fuzz/%.c | $(FUZZ_DEPS) $(FB)/dsl/parser.h $(FB)/dsl/lexer.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_HARNESS_CFLAGS) -c $< -o $@

FUZZ_LINK = $(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(PKG_LIBS)
# The server harness: records (msgseq), their mutator, hostile fds.
FUZZ_SERVER_OBJS := $(FB)/fuzz/fuzz_server.o $(FB)/fuzz/msgseq.o \
                    $(FB)/fuzz/msgseq_mutate.o $(FB)/tests/hostile_fd.o \
                    $(FB)/tests/testdev.o
$(FB)/tests/%.o: tests/%.c | $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_HARNESS_CFLAGS) -c $< -o $@
$(FB)/bin/fuzz_server: $(FUZZ_SERVER_OBJS) $(FUZZ_MODEL_OBJS) $(FUZZ_RT_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_LINK) -lpthread
$(FB)/bin/fuzz_migstream: $(FB)/fuzz/fuzz_migstream.o $(FUZZ_EDU_OBJS) \
                          $(FUZZ_RT_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_LINK)
$(FB)/bin/fuzz_vdevc: $(FB)/fuzz/fuzz_vdevc.o $(FUZZ_VDEVC_OBJS) \
                      $(FUZZ_DSL_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_LINK)

# Seed writer for fuzz/corpus/migstream (see fuzz/mkseeds.py).
$(FB)/bin/seed_migstream: $(FB)/fuzz/seed_migstream.o $(FUZZ_EDU_OBJS) \
                          $(FUZZ_RT_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -o $@ $^ $(PKG_LIBS)
fuzz-seeds: $(FB)/bin/seed_migstream
	./fuzz/mkseeds.py
	@mkdir -p fuzz/corpus/migstream
	$(FB)/bin/seed_migstream fuzz/corpus/migstream

fuzz-build: $(FUZZ_BINS)

# Runs each harness in turn (one job each); exits non-zero on a crash.
fuzz: $(FUZZ_BINS)
	@FUZZ_BUILD=$(FB) ./fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

# Each harness to FUZZ_RUNS inputs (ten million), in turn: hours on a
# shared machine (fuzz/README.md has the figures). FUZZ_NAMES=server for one.
FUZZ_RUNS ?= 10000000
fuzz-long: $(FUZZ_BINS)
	@FUZZ_BUILD=$(FB) FUZZ_RUNS=$(FUZZ_RUNS) ./fuzz/run.sh 0 $(FUZZ_NAMES)

CLEAN_EXTRA += $(FB)
.PHONY: fuzz fuzz-build fuzz-seeds fuzz-long
-include $(shell find $(FB) -name '*.d' 2>/dev/null)

# The server harness built with the project's compiler and flags, without
# libFuzzer (fuzz/replay_main.c): make check replays the inputs of
# tests/fuzz-regressions/server/ with it (tests/test_fuzz_regressions.c).
FUZZ_REPLAY := $(B)/tests/vdev-fuzz-server
FUZZ_REPLAY_MODELS := $(FUZZ_SERVER_MODELS:%=$(B)/fuzz/models/%.o)
$(B)/fuzz/models/%.o: generated/%.c generated/%.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DVDEV_NO_MAIN -Igenerated -c $< -o $@
$(B)/fuzz/fuzz_server.o $(B)/fuzz/msgseq.o $(B)/fuzz/replay_main.o: \
    CFLAGS += -Igenerated -Itests $(RUNTIME_PRIV_CFLAGS)
$(FUZZ_REPLAY): $(B)/fuzz/replay_main.o $(B)/fuzz/fuzz_server.o \
                $(B)/fuzz/msgseq.o $(B)/tests/hostile_fd.o $(B)/tests/testdev.o \
                $(FUZZ_REPLAY_MODELS) $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lpthread
CHECK_DEPS += $(FUZZ_REPLAY)

# Line coverage (make fuzz-coverage): the server harness built by clang
# with source-based coverage, no sanitizers, run by fuzz/replay_main.c over
# the corpus (fuzz/coverage.sh prints the report per file).
FCB := build-fuzz-cov
FUZZ_COV_CFLAGS = -std=gnu11 -O0 -g -D_GNU_SOURCE -MMD -MP \
                  -fprofile-instr-generate -fcoverage-mapping $(PKG_CFLAGS) \
                  -Iinclude/vdev $(RUNTIME_PRIV_CFLAGS) -Igenerated -Itests \
                  -Wno-unused-command-line-argument
FUZZ_COV_OBJS := $(patsubst %.c,$(FCB)/%.o,$(RUNTIME_SRCS) fuzz/replay_main.c \
                   fuzz/fuzz_server.c fuzz/msgseq.c tests/hostile_fd.c \
                   tests/testdev.c)
FUZZ_COV_MODELS := $(FUZZ_SERVER_MODELS:%=$(FCB)/models-nomain/%.o)
$(FCB)/%.o: %.c | $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -c $< -o $@
$(FCB)/models-nomain/%.o: generated/%.c | $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -DVDEV_NO_MAIN -c $< -o $@
$(FCB)/bin/cov_server: $(FUZZ_COV_OBJS) $(FUZZ_COV_MODELS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -fprofile-instr-generate -o $@ $^ $(PKG_LIBS) -lpthread
# The migration loader's harness too: its streams reach the parser
# (migration/mig_stream.c) that the server's sessions mostly do not.
FUZZ_COV_MIG_OBJS := $(patsubst %.c,$(FCB)/%.o,$(RUNTIME_SRCS) \
                       fuzz/replay_main.c fuzz/fuzz_migstream.c)
$(FCB)/bin/cov_migstream: $(FUZZ_COV_MIG_OBJS) $(FCB)/models-nomain/edu.o
	@mkdir -p $(@D)
	$(FUZZ_CC) -fprofile-instr-generate -o $@ $^ $(PKG_LIBS) -lpthread
fuzz-coverage: $(FCB)/bin/cov_server $(FCB)/bin/cov_migstream
	@FUZZ_BUILD=$(FB) ./fuzz/coverage.sh $^
CLEAN_EXTRA += $(FCB)
.PHONY: fuzz-coverage
# Its objects' header dependencies: without them a changed struct left
# stale objects that crashed at start.
-include $(shell find $(FCB) -name '*.d' 2>/dev/null)
