# One Criterion binary holds every test; helper programs the tests spawn
# (test device servers) are built beside it.
TEST_SRCS := $(wildcard tests/test_*.c)
# tests/NAME_main.c (not test_*) are whole programs the tests spawn: build/tests/vdev-NAME.
TEST_PROG_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/*_main.c))
TEST_SUPPORT_SRCS := $(filter-out $(TEST_SRCS) $(TEST_PROG_SRCS),$(wildcard tests/*.c))
TEST_OBJS := $(TEST_SRCS:%.c=$(B)/%.o) $(TEST_SUPPORT_SRCS:%.c=$(B)/%.o)

# The shipped models without their main(), for tests that drive their
# devices in process (tests/test_model_plain.c).
TEST_GEN_MODELS := edu gpio-pci-idio-16 i6300esb ivshmem pci-serial
TEST_GEN_OBJS := $(TEST_GEN_MODELS:%=$(B)/tests/gen/%.o)
$(TEST_GEN_OBJS): $(B)/tests/gen/%.o: generated/%.c generated/%.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DVDEV_NO_MAIN -Igenerated -c $< -o $@

# vdevc goldens: every expected .c must build warning-free with the project
# flags; the access model is linked in and driven by the semantics tests.
GOLDEN_C_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard tests/golden/*.c tests/golden/lang/*.c))
$(GOLDEN_C_OBJS): CFLAGS += -DVDEV_NO_MAIN -Itests/golden -Itests/golden/lang
CHECK_DEPS += $(GOLDEN_C_OBJS)
TEST_OBJS += $(B)/tests/golden/access.o

# One test per golden file (tests/golden/cases.sh): the list is rewritten
# on every make and replaced only when it changed.
GOLDEN_CASES := $(B)/tests/golden_cases.c
$(GOLDEN_CASES): tests/golden/cases.sh FORCE
	@mkdir -p $(@D)
	@./tests/golden/cases.sh > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(B)/tests/golden_cases.o: $(GOLDEN_CASES) | $(DEPS_STAMP)
	$(CC) $(CFLAGS_ALL) -c $< -o $@
TEST_OBJS += $(B)/tests/golden_cases.o
FORCE:
.PHONY: FORCE
$(B)/tests/test_vdevc_semantics.o: CFLAGS += -Itests/golden
TEST_BIN := $(B)/tests/vdev-tests
TEST_LINK_LIBS = $(LIBVDEVC) $(LIBVDEVDSL) $(LIBVDEV) $(LIBVDEV_CLIENT)

$(TEST_OBJS): CFLAGS += -I$(B)/dsl -Idsl -Icompiler -Itests -Igenerated \
                         $(RUNTIME_PRIV_CFLAGS)
$(TEST_OBJS): | $(if $(LIBVDEVDSL),$(B)/dsl/parser.h $(B)/dsl/lexer.h)
$(TEST_OBJS): | $(TEST_DEPS_STAMP)
$(TEST_BIN): $(TEST_OBJS) $(TEST_GEN_OBJS) $(TEST_LINK_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $(TEST_OBJS) $(TEST_GEN_OBJS) $(TEST_LINK_LIBS) $(PKG_LIBS) -lcriterion

CHECK_DEPS += $(TEST_BIN)

TEST_PROGS := $(patsubst tests/%_main.c,$(B)/tests/vdev-%,$(TEST_PROG_SRCS))
$(TEST_PROGS): $(B)/tests/vdev-%: $(B)/tests/%_main.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
CHECK_DEPS += $(B)/tests/vdev-edunext
CHECK_DEPS += $(TEST_PROGS)

golden-update: $(VDEVC) generated-update
	@./tests/golden/update.sh $(VDEVC)
	@./tests/migration/update.sh $(VDEVC)
.PHONY: golden-update

# Cross-version migration: one device compiled from two revisions of its
# .vdev (tests/migration/counter-v1.vdev, -v2.vdev; vdevc output committed beside
# them) becomes two servers the migration tests run side by side.
MIG_REV_BINS := $(patsubst tests/migration/%.vdev,$(B)/tests/vdev-%,$(wildcard tests/migration/*-v*.vdev))
$(MIG_REV_BINS): $(B)/tests/vdev-%: $(B)/tests/migration/%.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
CHECK_DEPS += $(MIG_REV_BINS)

# Guest-facing outputs (--emit=doc, --emit=guest-h) of models/*.vdev.
golden-update: golden-docs-update
golden-docs-update: $(VDEVC)
	@./tests/golden/update-docs.sh $(VDEVC)
.PHONY: golden-docs-update

# A second build of the edu model for the hand-over tests (an upgrade
# between two different binaries): the same generated C, compiled again
# without its main, linked with tests/edunext/main.c.
$(B)/tests/edunext_gen.o: generated/edu.c generated/edu.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DVDEV_NO_MAIN -Igenerated -c $< -o $@
$(B)/tests/edunext/main.o: CFLAGS += -Igenerated
$(B)/tests/vdev-edunext: $(B)/tests/edunext/main.o $(B)/tests/edunext_gen.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
CHECK_DEPS += $(B)/tests/vdev-edunext

# A stand-in successor that records what a server hands over (and
# refuses): the hand-over tests replay mutated copies of it.
$(B)/tests/hovdump/main.o: CFLAGS += $(RUNTIME_PRIV_CFLAGS)
$(B)/tests/vdev-hovdump: $(B)/tests/hovdump/main.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
CHECK_DEPS += $(B)/tests/vdev-hovdump

# Diagnostics goldens: vdevc's exit status and stderr for each
# tests/golden/diag/*.vdev, run with the options on its first line.
golden-update: golden-diag-update
golden-diag-update: $(VDEVC)
	@./tests/golden/diag/update.sh $(VDEVC)
.PHONY: golden-diag-update

# What `make install DESTDIR=...` gives users, checked from the installed
# files only: the README's out-of-tree example built with plain pkg-config
# and with vdevc build (tests/out-of-tree.sh), the vfio-user descriptors,
# unit templates and the dependency check (tests/install-check.sh).
INSTALL_TEST_DESTDIR = $(CURDIR)/$(B)/install-test
install-check: all
	@rm -rf $(INSTALL_TEST_DESTDIR)
	@$(MAKE) -s install DESTDIR=$(INSTALL_TEST_DESTDIR) PREFIX=/usr >/dev/null
	@VDEV_DESTDIR=$(INSTALL_TEST_DESTDIR) SAN_FLAGS="$(SAN_FLAGS)" ./tests/out-of-tree.sh
	@VDEV_DESTDIR=$(INSTALL_TEST_DESTDIR) ./tests/install-check.sh
check: install-check
.PHONY: install-check

# The issue-11 test device as a standalone server (tests/hostdev.c).
$(B)/tests/vdev-hostdev: $(B)/tests/hostdev.o
