# Conformance checkers (vdevc --emit=check): models/NAME.vdev ->
# $(B)/check/NAME_check.c -> $(B)/check/check-NAME SOCKET. Not committed:
# rebuilt whenever vdevc or the model changes, so they are never stale.
# tests/test_conformance.c runs each against its model server, and against
# the mutants below, servers whose generated C had one register's declared
# access kind changed by hand (the checker must reject them).
CHECKERS := $(MODELS:%=$(B)/check/check-%)

$(B)/check/%_check.c: models/%.vdev $(VDEVC)
	@mkdir -p $(@D)
	$(VDEVC) --emit=check -o $@ $<
$(B)/check/%_check.o: $(B)/check/%_check.c | $(DEPS_STAMP)
	$(CC) $(CFLAGS_ALL) -c $< -o $@
$(B)/check/check-%: $(B)/check/%_check.o $(LIBVDEV_CLIENT)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
.PRECIOUS: $(B)/check/%_check.c $(B)/check/%_check.o

# A mutant: $(1) its name (tests/mutants/$(1).sed edits one C file), $(2)
# that file (a generated device, or the runtime's register engine), $(3)
# the objects linked with it (a companion; the device when the engine is
# the mutant). The rule fails when the script no longer changes anything
# (the code changed shape: update the script).
define mutant_rule
$(B)/tests/mutant/$(1).c: $(2) tests/mutants/$(1).sed
	@mkdir -p $$(@D)
	sed -f tests/mutants/$(1).sed $$< > $$@.tmp
	@if cmp -s $$< $$@.tmp; then \
	    echo "mutant $(1): the edit did not apply to $$<"; exit 1; fi
	mv $$@.tmp $$@
$(B)/tests/mutant/$(1).o: $(B)/tests/mutant/$(1).c | $(DEPS_STAMP)
	$$(CC) $$(CFLAGS_ALL) -I$(dir $(2)) -c $$< -o $$@
$(B)/tests/vdev-mutant-$(1): $(B)/tests/mutant/$(1).o $(3) $(LIBVDEV)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(PKG_LIBS)
MUTANTS += $(B)/tests/vdev-mutant-$(1)
endef
MUTANTS :=
$(eval $(call mutant_rule,edu-irq_status-rw,generated/edu.c,$(B)/models/edu.o))
$(eval $(call mutant_rule,idio16-out0_7-ro,generated/gpio-pci-idio-16.c,))
$(eval $(call mutant_rule,regs-irq_ack-rw,tests/golden/lang/03-registers.c,))
$(eval $(call mutant_rule,regs-lock-ro,tests/golden/lang/03-registers.c,))
$(eval $(call mutant_rule,regs-lanes,runtime/host/model.c,$(B)/tests/lang/03-registers.o))

ALL_TARGETS += $(CHECKERS)
CHECK_DEPS += $(CHECKERS) $(MUTANTS)

# The language reference's examples (tests/golden/lang, all access kinds,
# arrays, blocks, hooks) as servers with their checkers; those that call C
# functions need a companion and are left out.
LANG_CONFORM := $(filter-out 12-extern,$(patsubst tests/golden/lang/%.vdev,%,\
                  $(wildcard tests/golden/lang/*.vdev)))
$(B)/check/lang-%_check.c: tests/golden/lang/%.vdev $(VDEVC)
	@mkdir -p $(@D)
	$(VDEVC) --emit=check -o $@ $<
$(B)/tests/lang/%.o: tests/golden/lang/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Itests/golden/lang -c $< -o $@
$(B)/tests/vdev-lang-%: $(B)/tests/lang/%.o $(LIBVDEV)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
.PRECIOUS: $(B)/check/lang-%_check.c $(B)/tests/lang/%.o
CHECK_DEPS += $(LANG_CONFORM:%=$(B)/check/check-lang-%) \
              $(LANG_CONFORM:%=$(B)/tests/vdev-lang-%)

# Every model's checker against its server as a fuzz oracle, for longer
# than `make check` does: make conform CONFORM_RANDOM=1000000 CONFORM_SEED=7
CONFORM_RANDOM ?= 100000
CONFORM_SEED ?= 1
conform: $(CHECKERS) $(MODEL_BINS)
	@set -e; for m in $(MODELS); do \
	    d=$$(mktemp -d /tmp/vdev-conform-XXXXXX); \
	    $(B)/bin/vdev-$$m --socket-path=$$d/dev.sock > /dev/null & pid=$$!; \
	    rc=0; $(B)/check/check-$$m --random $(CONFORM_RANDOM) \
	        --seed $(CONFORM_SEED) --lanes $$d/dev.sock || rc=$$?; \
	    kill $$pid; wait $$pid || true; rm -rf $$d; \
	    [ $$rc -eq 0 ] || { echo "conform: $$m failed"; exit 1; }; \
	done
.PHONY: conform
