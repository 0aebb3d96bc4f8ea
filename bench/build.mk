# Benchmarks: each bench/bench_*.c is a program bench/run.sh drives.
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/bench_*.c))
$(B)/bench/%: $(B)/bench/%.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
$(BENCH_BINS:%=%.o): CFLAGS += -Igenerated
BENCH_TARGETS += $(BENCH_BINS)
