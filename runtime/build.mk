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
