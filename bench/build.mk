# Benchmarks: each bench/bench_*.c is a program bench/run.sh drives.
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/bench_*.c))
$(B)/bench/%: $(B)/bench/%.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
$(BENCH_BINS:%=%.o): CFLAGS += -Igenerated
BENCH_TARGETS += $(BENCH_BINS)

# bench_rtt is also the benchmark's device server: link it the way model
# servers are linked (SERVER_LINK, static by default), and a dynamically
# linked copy whose RSS is printed for comparison.
$(B)/bench/bench_rtt: $(B)/bench/bench_rtt.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(SERVER_LINK)
BENCH_DYNAMIC := $(B)/bench/dynamic/bench_rtt
$(BENCH_DYNAMIC): $(B)/bench/bench_rtt.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
BENCH_TARGETS += $(BENCH_DYNAMIC)
