# User-facing tools built on libvdev's public headers.
TOOLS := $(patsubst tools/%.c,$(B)/bin/%,$(wildcard tools/*.c))
$(B)/bin/%: $(B)/tools/%.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
ALL_TARGETS += $(TOOLS)
INSTALL_BINS += $(TOOLS)
