# PCI-IDIO-16's out0_7 is declared rw: its register table entry loses the
# .rw mask, so guest writes are now ignored (as if ro).
/\/\* out0_7: /,/^    },/ { /^ *\.rw = /d }
