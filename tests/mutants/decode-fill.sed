# A decoding bug in the runtime's register engine (runtime/host/model.c,
# linked before libvdev into the 40-decode server): gap bytes read 0
# whatever the BAR's fill (the checker's probes of undecoded places see
# it).
s/p\[0\] = mb->fill;/p[0] = 0;/
