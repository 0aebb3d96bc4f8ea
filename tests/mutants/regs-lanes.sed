# Not an access kind but a byte-lane bug in the runtime's register engine
# (runtime/host/model.c, linked before libvdev into the 03-registers server): a
# write replaces all of a register's rw bits instead of those in the lanes
# it covers (only the checker's --lanes accesses can tell).
s/nv = (old & ~(r->rw & mask)) | (v & r->rw & mask);/nv = (old \& ~r->rw) | (v \& r->rw);/
