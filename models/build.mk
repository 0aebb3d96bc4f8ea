# Device models: models/NAME.vdev -> generated/NAME.{c,h} -> build/bin/vdev-NAME,
# linked with models/NAME.c if present. The shipped models' C is committed
# in generated/ (checked for freshness); a model of your own dropped into
# models/ is compiled into $(B)/generated/ by the build, until `make
# generated-update` commits its output too.
MODELS := $(patsubst models/%.vdev,%,$(wildcard models/*.vdev))
MODELS_COMMITTED := $(filter $(MODELS),$(patsubst generated/%.c,%,$(wildcard generated/*.c)))
MODEL_BINS := $(MODELS:%=$(B)/bin/vdev-%)
MODEL_DYNAMIC_BINS := $(MODELS:%=$(B)/bin-dynamic/vdev-%)
# model_gen NAME: the folder its generated C is in.
model_gen = $(if $(filter $(1),$(MODELS_COMMITTED)),generated,$(B)/generated)

define model_rules
ifeq ($(call model_gen,$(1)),generated)
$(B)/generated/$(1).o: generated/$(1).c generated/$(1).h
else
$(B)/generated/$(1).c $(B)/generated/$(1).h &: models/$(1).vdev $(VDEVC)
	@mkdir -p $$(@D)
	$(VDEVC) -o $(B)/generated/$(1).c --header=$(B)/generated/$(1).h $$<
$(B)/generated/$(1).o: $(B)/generated/$(1).c $(B)/generated/$(1).h
	$$(CC) $$(CFLAGS_ALL) -c $$< -o $$@
$(B)/models/$(1).o: $(B)/generated/$(1).h
endif
$(B)/models/$(1).o: CFLAGS += -I$(call model_gen,$(1))
$(B)/bin/vdev-$(1): $(B)/generated/$(1).o $(if $(wildcard models/$(1).c),$(B)/models/$(1).o) $(LIBVDEV)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(SERVER_LINK)
# Dynamically linked copy for valgrind, which cannot follow malloc in a
# static binary (make valgrind-check).
$(B)/bin-dynamic/vdev-$(1): $(B)/generated/$(1).o $(if $(wildcard models/$(1).c),$(B)/models/$(1).o) $(LIBVDEV)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach m,$(MODELS),$(eval $(call model_rules,$(m))))

# Regenerate generated/ from models/, every model's (review the diff, then
# commit).
generated-update: $(VDEVC)
	@for m in $(MODELS); do \
	    $(VDEVC) -o generated/$$m.c --header=generated/$$m.h models/$$m.vdev || exit 1; \
	done

# Fails when generated/ is not what vdevc makes of models/ today (for the
# models whose output is committed).
check-generated: $(VDEVC)
	@rm -rf $(B)/regen && mkdir -p $(B)/regen
	@for m in $(MODELS_COMMITTED); do \
	    $(VDEVC) -o $(B)/regen/$$m.c --header=$(B)/regen/$$m.h models/$$m.vdev || exit 1; \
	    diff -u generated/$$m.c $(B)/regen/$$m.c && diff -u generated/$$m.h $(B)/regen/$$m.h \
	        || { echo "generated/$$m.* is stale: run 'make generated-update'"; exit 1; }; \
	done; echo "generated/ is fresh ($(words $(MODELS_COMMITTED)) models)"

ALL_TARGETS += $(MODEL_BINS)
INSTALL_BINS += $(MODEL_BINS)
.PHONY: generated-update check-generated

# README command 1: the first-run demo. The script installs what is missing
# and builds (a nested make, which inherits SANITIZE), then runs the GPIO
# card with vdevctl.
demo:
	@VDEV_BUILD=$(B) ./scripts/demo.sh
.PHONY: demo
