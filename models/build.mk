# Device models: models/NAME.vdev -> generated/NAME.{c,h} (committed, checked
# for freshness) -> build/bin/vdev-NAME, linked with models/NAME.c if present.
MODELS := $(patsubst models/%.vdev,%,$(wildcard models/*.vdev))
MODEL_BINS := $(MODELS:%=$(B)/bin/vdev-%)
MODEL_DYNAMIC_BINS := $(MODELS:%=$(B)/bin-dynamic/vdev-%)

define model_rules
$(B)/generated/$(1).o: generated/$(1).c generated/$(1).h
$(B)/models/$(1).o: CFLAGS += -Igenerated
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

# Regenerate generated/ from models/ (review the diff, then commit).
generated-update: $(VDEVC)
	@for m in $(MODELS); do \
	    $(VDEVC) -o generated/$$m.c --header=generated/$$m.h models/$$m.vdev || exit 1; \
	done

# Fails when generated/ is not what vdevc makes of models/ today.
check-generated: $(VDEVC)
	@rm -rf $(B)/regen && mkdir -p $(B)/regen
	@for m in $(MODELS); do \
	    $(VDEVC) -o $(B)/regen/$$m.c --header=$(B)/regen/$$m.h models/$$m.vdev || exit 1; \
	    diff -u generated/$$m.c $(B)/regen/$$m.c && diff -u generated/$$m.h $(B)/regen/$$m.h \
	        || { echo "generated/$$m.* is stale: run 'make generated-update'"; exit 1; }; \
	done; echo "generated/ is fresh ($(words $(MODELS)) models)"

ALL_TARGETS += $(MODEL_BINS)
INSTALL_BINS += $(MODEL_BINS)
.PHONY: generated-update check-generated

# README command 1: the first-run demo. The script installs what is missing
# and builds (a nested make, which inherits SANITIZE), then runs the GPIO
# card with vdevctl.
demo:
	@VDEV_BUILD=$(B) ./scripts/demo.sh
.PHONY: demo
