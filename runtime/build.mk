# libvdev: server runtime and client library, one static archive.
RUNTIME_SRCS := $(wildcard runtime/*.c)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(B)/%.o)
RUNTIME_PUBLIC_HEADERS := $(wildcard include/vdev/*.h)
# Private headers: for the runtime's own objects, tests, bench and fuzz only.
RUNTIME_PRIV_CFLAGS := -Iruntime
$(RUNTIME_OBJS): CFLAGS += $(RUNTIME_PRIV_CFLAGS)
LIBVDEV := $(B)/libvdev.a
VDEV_LIBS = $(LIBVDEV) $(PKG_LIBS)

$(LIBVDEV): $(RUNTIME_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

ALL_TARGETS += $(LIBVDEV)
