# The QEMU tier (tests/qemu/): real QEMU (vfio-user-pci) and a Linux guest
# built from Debian packages under $(B)/qemu/. QEMU comes from $(QEMU)
# (default ../shared/qemu/qemu-system-x86_64); without one, qemu-check
# says so in one line and passes.
#   make qemu-check          every model in a guest (TCG), a few minutes
#   make vm MODEL=NAME       a guest shell with that model attached
#   make qemu-bench          guest-visible BAR latency, ours vs libvfio-user
qemu-check: all
	@VDEV_BUILD=$(B) ./tests/qemu/run.sh

vm: all
	@VDEV_BUILD=$(B) ./tests/qemu/vm.sh $(MODEL)

qemu-bench: all
	@VDEV_BUILD=$(B) ./tests/qemu/bench-guest.sh

.PHONY: qemu-check vm qemu-bench
