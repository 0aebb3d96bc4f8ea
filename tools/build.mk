# User-facing tools built on libvdev's public headers and the client
# archive: each tools/X.c becomes build/bin/X, and each folder tools/NAME/
# builds build/bin/NAME from all its .c files.
TOOLS := $(patsubst tools/%.c,$(B)/bin/%,$(wildcard tools/*.c))
$(B)/bin/%: $(B)/tools/%.o $(LIBVDEV_CLIENT)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

TOOL_DIRS := $(patsubst tools/%/,%,$(sort $(dir $(wildcard tools/*/*.c))))

define tool_dir_rules
TOOL_OBJS_$(1) := $$(patsubst %.c,$(B)/%.o,$$(wildcard tools/$(1)/*.c))
$(B)/bin/$(1): $$(TOOL_OBJS_$(1)) $(LIBVDEV_CLIENT)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$^ $$(PKG_LIBS)
TOOLS += $(B)/bin/$(1)
endef
$(foreach t,$(TOOL_DIRS),$(eval $(call tool_dir_rules,$(t))))

# vdevctl's decoder is pure (config bytes in, text out), so the test binary
# links it to check the text without a server.
VDEVCTL_DECODE_OBJS := $(B)/tools/vdevctl/decode.o $(B)/tools/vdevctl/decode_caps.o
$(B)/tests/vdev-tests: $(VDEVCTL_DECODE_OBJS)
$(B)/tests/vdev-tests: TEST_OBJS += $(VDEVCTL_DECODE_OBJS)
# test_vdevctl.c runs the real binary.
CHECK_DEPS += $(B)/bin/vdevctl

ALL_TARGETS += $(TOOLS)
INSTALL_BINS += $(TOOLS)
