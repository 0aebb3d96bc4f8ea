# Guest side of the QEMU tier, run by tests/qemu/image.sh once the Debian
# packages are extracted in OUT/x: the static test program, the MSI-X test
# module (against the same kernel's headers) and the initramfs.
#   make -f tests/qemu/guest.mk ROOT=REPO OUT=build/qemu/KVER KVER=KVER
G := $(ROOT)/tests/qemu/guest
X := $(OUT)/x
KDIR := $(X)/usr/src/linux-headers-$(KVER)
GUEST_SRCS := $(sort $(wildcard $(G)/vg_*.c))
GUEST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes \
                -Wmissing-prototypes -Werror -D_GNU_SOURCE -static
MOD := $(OUT)/obj/mod/vdev_ivshmem_irq.ko
HOST_MODS := gpio-pci-idio-16 uio uio_pci_generic

all: $(OUT)/initrd.gz $(OUT)/vmlinuz

$(OUT)/vmlinuz: $(X)/boot/vmlinuz-$(KVER)
	cp $< $@

$(OUT)/obj/vdev-guest: $(GUEST_SRCS) $(G)/vg.h $(ROOT)/tests/qemu/guest.mk
	@mkdir -p $(@D)
	cc $(GUEST_CFLAGS) -o $@ $(GUEST_SRCS)

# Kbuild writes beside the source, so the module is built from a copy.
$(MOD): $(G)/vdev_ivshmem_irq.c
	@rm -rf $(@D) && mkdir -p $(@D)
	cp $< $(@D)/
	echo 'obj-m := vdev_ivshmem_irq.o' > $(@D)/Kbuild
	$(MAKE) -s -C $(KDIR) M=$(@D) modules > $(@D)/build.log 2>&1 || \
	    { cat $(@D)/build.log; exit 1; }

$(OUT)/initrd.gz: $(OUT)/obj/vdev-guest $(MOD) $(G)/init
	@rm -rf $(OUT)/root && mkdir -p $(OUT)/root/bin $(OUT)/root/modules
	cp $(X)/bin/busybox $(OUT)/obj/vdev-guest $(OUT)/root/bin/
	install -m 755 $(G)/init $(OUT)/root/init
	cp $(MOD) $(HOST_MODS:%=$(X)/modules/%.ko) $(OUT)/root/modules/
	cd $(OUT)/root && find . | $(X)/bin/busybox cpio -o -H newc -R 0:0 \
	    2>/dev/null | gzip -1 > $@.tmp
	mv $@.tmp $@

.PHONY: all
