# What a host's service and VM managers read, installed by make install:
# - systemd unit templates, lib/systemd/system/: vdev@.socket (the
#   vfio-user socket /run/vdev/NAME.sock), vdev-mgmt@.socket (its
#   management socket) and vdev@.service (bin/vdev-NAME, Type=notify);
#   the instance name is the model;
# - one backend descriptor per model, share/vfio-user/50-vdev-NAME.json:
#   QEMU's docs/interop/vfio-user.rst ("Backend Program Conventions") asks
#   for a JSON file under /usr/share/vfio-user; its fields are those of
#   vhost-user.json's VhostUserBackend. Not in share/qemu/vhost-user/:
#   libvirt parses every file there and fails all vhost-user lookups
#   (virtiofs, vhost-user-gpu) on a type it does not know.
SYSTEMD_UNIT_DIR = $(DESTDIR)$(PREFIX)/lib/systemd/system
VFIO_USER_DIR = $(DESTDIR)$(PREFIX)/share/vfio-user
DIST_SED = sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@VERSION@|$(VDEV_VERSION)|g'
DIST_UNITS := vdev@.socket vdev-mgmt@.socket vdev@.service

install: install-dist
install-dist:
	install -d $(SYSTEMD_UNIT_DIR) $(VFIO_USER_DIR)
	for u in $(DIST_UNITS); do \
	    $(DIST_SED) dist/$$u.in > $(SYSTEMD_UNIT_DIR)/$$u || exit 1; \
	done
	for m in $(MODELS); do \
	    $(DIST_SED) -e "s|@MODEL@|$$m|g" dist/vfio-user.json.in \
	        > $(VFIO_USER_DIR)/50-vdev-$$m.json || exit 1; \
	done
.PHONY: install-dist
