# vdev top-level build. Each folder contributes a build.mk fragment; this file
# holds the flags, the dependency bootstrap and the user-facing targets.
#   make            build everything        make check      all tests
#   make bench      benchmarks              make demo       first-run demo
#   make SANITIZE=1 check   ASan+UBSan build (in build-san/)
#   make valgrind-check     model servers under valgrind while tests drive them
#   make soak / soak-short  10M (or 200k) mixed messages; RSS and fds sampled
#   make golden-update      regenerate golden expectations and generated/
#   make layering-check     the runtime's layers depend one way only
#   make install PREFIX=/usr/local DESTDIR=

.DEFAULT_GOAL := all
SHELL := /bin/bash

VDEV_VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?= 0
CC ?= cc

ifeq ($(SANITIZE),1)
B := build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
OPT := -O1
else
B := build
SAN_FLAGS :=
OPT := -O2
endif

# Dependencies come from apt. Plain `make` and `make install` only check
# the build set (and say what is missing and how to install it); the goals
# below install what they need; `make deps` installs the build set.
# Test objects and `make check` also need the test set (Criterion, ...).
DEPS_INSTALL_GOALS := check demo valgrind-check bench soak soak-short deps
DEPS_MODE := $(if $(filter $(DEPS_INSTALL_GOALS),$(MAKECMDGOALS)),install,check)
DEPS_STAMP := $(B)/.deps-ok
TEST_DEPS_STAMP := $(B)/.test-deps-ok
$(DEPS_STAMP): scripts/install-deps.sh
	@./scripts/install-deps.sh --$(DEPS_MODE) build
	@mkdir -p $(@D) && touch $@
$(TEST_DEPS_STAMP): scripts/install-deps.sh
	@./scripts/install-deps.sh --$(DEPS_MODE) test
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

PKGS := talloc json-c libseccomp
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Device servers are linked statically by default (STATIC=0 turns it off;
# sanitizer builds never are): a standalone server then needs nothing at run
# time, and carries only the library pages it uses (RSS after negotiation
# ~1 MiB instead of ~1.8 MiB, most of which was shared-library text).
STATIC ?= 1
ifeq ($(SANITIZE)$(STATIC),01)
SERVER_LINK = -static $(shell pkg-config --static --libs $(PKGS) 2>/dev/null)
else
SERVER_LINK = $(PKG_LIBS)
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wwrite-strings -Wno-unused-parameter -Werror
BASE_CFLAGS := -std=gnu11 $(OPT) -g -D_GNU_SOURCE $(SAN_FLAGS) -MMD -MP
# The public headers (include/vdev/, installed as PREFIX/include/vdev/) are
# the only runtime path every compile gets; the runtime itself, tests, bench
# and fuzz add RUNTIME_PRIV_CFLAGS (runtime/build.mk) for the private ones.
CFLAGS_ALL = $(BASE_CFLAGS) $(WARN) $(PKG_CFLAGS) -Iinclude/vdev $(CFLAGS)
LDFLAGS_ALL = $(SAN_FLAGS) $(LDFLAGS)

$(B)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

ALL_TARGETS :=
CHECK_DEPS :=
BENCH_TARGETS :=
CLEAN_EXTRA :=

include runtime/build.mk
include dsl/build.mk
include compiler/build.mk
include tools/build.mk
include models/build.mk
include tests/build.mk
include tests/conform.mk
include bench/build.mk
include fuzz/build.mk
include doc/build.mk
include dist/build.mk
include tests/qemu/qemu.mk

all: $(ALL_TARGETS)

# The runtime's layers point one way (scripts/layering-check.sh): includes,
# fd passing, and the symbols of the built objects.
layering-check: $(LIBVDEV) $(LIBVDEV_CLIENT)
	@VDEV_BUILD=$(B) ./scripts/layering-check.sh

# The test runner is Criterion; its Synthesis line is the closing line.
# Every process the tests start is checked (tests/child.h): sanitizer
# reports of all of them go to REPORTS, and the run fails on any.
REPORTS = $(abspath $(B))/tests/reports
check: all $(TEST_DEPS_STAMP) $(CHECK_DEPS) layering-check abi-check
	@echo "== vdev tests ($(B)) =="
	@rm -rf $(REPORTS) && mkdir -p $(REPORTS)
	VDEV_BUILD=$(B) VDEV_SAN_DIR=$(REPORTS) VDEV_CHILD_LEDGER=$(REPORTS)/children \
	    ASAN_OPTIONS=log_path=$(REPORTS)/asan$${ASAN_OPTIONS:+:$$ASAN_OPTIONS} \
	    $(B)/tests/vdev-tests --jobs=2 $(CRITERION_ARGS); \
	    rc=$$?; ./scripts/check-reports.sh $(REPORTS) || rc=1; exit $$rc

# Model server processes under valgrind while the suites drive them.
valgrind-check: all $(CHECK_DEPS) $(MODEL_DYNAMIC_BINS)
	VDEV_BUILD=$(B) ./scripts/valgrind-servers.sh

bench: all $(BENCH_TARGETS)
	@VDEV_BUILD=$(B) ./bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/vdev \
	    $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIBVDEV) $(LIBVDEV_CLIENT) $(DESTDIR)$(PREFIX)/lib/
	for l in libvdev libvdev-client; do \
	    install -m 755 $(B)/$$l.so.$(VDEV_VERSION) $(DESTDIR)$(PREFIX)/lib/ && \
	    ln -sf $$l.so.$(VDEV_VERSION) $(DESTDIR)$(PREFIX)/lib/$$l.so.$(SO_MAJOR) && \
	    ln -sf $$l.so.$(SO_MAJOR) $(DESTDIR)$(PREFIX)/lib/$$l.so || exit 1; \
	done
	@[ -n "$(DESTDIR)" ] || ldconfig 2>/dev/null || true
	install -m 644 $(RUNTIME_PUBLIC_HEADERS) $(DESTDIR)$(PREFIX)/include/vdev/
	for pc in libvdev libvdev-client; do \
	    sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VDEV_VERSION)|' \
	        runtime/$$pc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$pc.pc || exit 1; \
	done
	install -m 755 $(INSTALL_BINS) $(DESTDIR)$(PREFIX)/bin/

# vdevc's output (generated/, golden expectations) is compared byte for byte,
# so it is not ours to reformat; the conformance engine is C kept in strings.
FORMAT_SRCS = $(filter-out generated/% tests/golden/% tests/migration/% fuzz/corpus/%,\
                $(shell git ls-files '*.c' '*.h' 2>/dev/null))
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRCS) && echo "format ok"
format:
	@clang-format -i $(FORMAT_SRCS)

clean:
	rm -rf build build-san $(CLEAN_EXTRA)

.PHONY: all check valgrind-check bench install clean deps format format-check \
        layering-check
# build/qemu holds the QEMU tier's guest (Debian packages): not ours to scan.
-include $(shell find $(B) -path $(B)/qemu -prune -o -name '*.d' -print 2>/dev/null)
