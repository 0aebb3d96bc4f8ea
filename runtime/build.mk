# libvdev: the runtime in layers, one folder each under runtime/. A layer
# uses only those below it (make layering-check proves it on includes and
# symbols):
#   host -> server -> migration -> device -> base        libvdev.a
#   client -> base                                       libvdev-client.a
# base/ goes into both archives, so each links alone (a program with both
# takes each base object once, from whichever archive comes first).
RUNTIME_LAYERS := base device migration server host
RUNTIME_SRCS := $(foreach l,$(RUNTIME_LAYERS),$(wildcard runtime/$(l)/*.c))
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(B)/%.o)
CLIENT_SRCS := $(wildcard runtime/client/*.c)
CLIENT_OBJS := $(CLIENT_SRCS:%.c=$(B)/%.o) \
               $(patsubst %.c,$(B)/%.o,$(wildcard runtime/base/*.c))
RUNTIME_PUBLIC_HEADERS := $(wildcard include/vdev/*.h)
# Private headers ("layer/name.h"): for the runtime's own objects, tests,
# bench and fuzz only.
RUNTIME_PRIV_CFLAGS := -Iruntime
$(RUNTIME_OBJS) $(CLIENT_OBJS): CFLAGS += $(RUNTIME_PRIV_CFLAGS)

LIBVDEV := $(B)/libvdev.a
LIBVDEV_CLIENT := $(B)/libvdev-client.a

$(LIBVDEV): $(RUNTIME_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(LIBVDEV_CLIENT): $(CLIENT_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

ALL_TARGETS += $(LIBVDEV) $(LIBVDEV_CLIENT)

# Shared libraries beside the archives: the same sources compiled again as
# position-independent code with hidden visibility, so only what the
# public headers declare is exported (include/vdev/*.h mark their
# declarations visible; make abi-check proves it). Sonames follow the
# major version: libvdev.so.0 -> libvdev.so.$(VDEV_VERSION).
SO_MAJOR := $(firstword $(subst ., ,$(VDEV_VERSION)))
PIC_CFLAGS := -fPIC -fvisibility=hidden
RUNTIME_PIC_OBJS := $(RUNTIME_SRCS:%.c=$(B)/pic/%.o)
CLIENT_PIC_OBJS := $(CLIENT_SRCS:%.c=$(B)/pic/%.o) \
                   $(patsubst %.c,$(B)/pic/%.o,$(wildcard runtime/base/*.c))
$(B)/pic/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(RUNTIME_PRIV_CFLAGS) $(PIC_CFLAGS) -c $< -o $@

LIBVDEV_SO := $(B)/libvdev.so.$(VDEV_VERSION)
LIBVDEV_CLIENT_SO := $(B)/libvdev-client.so.$(VDEV_VERSION)
# lib_so NAME: the real file, then the soname and dev symlinks beside it.
define lib_so
$(B)/$(1).so.$(VDEV_VERSION): $(2)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_ALL) -shared -Wl,-soname,$(1).so.$(SO_MAJOR) \
	    -Wl,--no-undefined -Wl,--as-needed -o $$@ $$^ $$(PKG_LIBS)
	ln -sf $(1).so.$(VDEV_VERSION) $(B)/$(1).so.$(SO_MAJOR)
	ln -sf $(1).so.$(SO_MAJOR) $(B)/$(1).so
endef
$(eval $(call lib_so,libvdev,$(RUNTIME_PIC_OBJS)))
$(eval $(call lib_so,libvdev-client,$(CLIENT_PIC_OBJS)))

ALL_TARGETS += $(LIBVDEV_SO) $(LIBVDEV_CLIENT_SO)

# Every symbol the shared libraries export is declared in include/vdev/,
# and every function declared there is exported (scripts/abi-check.sh).
abi-check: $(LIBVDEV_SO) $(LIBVDEV_CLIENT_SO)
	@CC="$(CC)" VDEV_BUILD=$(B) ./scripts/abi-check.sh
.PHONY: abi-check
