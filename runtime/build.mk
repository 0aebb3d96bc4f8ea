# libvdev: server runtime and client library, one static archive.
RUNTIME_SRCS := $(wildcard runtime/*.c)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(B)/%.o)
RUNTIME_PUBLIC_HEADERS := runtime/vdev.h runtime/vdev_gen.h runtime/vdev_proto.h runtime/vdev_client.h
LIBVDEV := $(B)/libvdev.a
VDEV_LIBS = $(LIBVDEV) $(PKG_LIBS)

$(LIBVDEV): $(RUNTIME_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

ALL_TARGETS += $(LIBVDEV)
