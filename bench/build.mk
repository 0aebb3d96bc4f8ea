# Benchmarks: each bench/bench_*.c is a program bench/run.sh drives.
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/bench_*.c))
$(B)/bench/%: $(B)/bench/%.o $(LIBVDEV) $(LIBVDEV_CLIENT)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
$(BENCH_BINS:%=%.o): CFLAGS += -Igenerated $(RUNTIME_PRIV_CFLAGS)
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

# Soak: not a bench_* program, so bench/run.sh (and CI) leave it alone.
#   make soak               10 million mixed messages (SOAK_MESSAGES=N), then
#                           the chaos test 5 minutes per model
#                           (VDEV_CHAOS_SECONDS=N, VDEV_CHAOS_SEED=S)
#   make soak-short         200000 messages, 30 s of chaos per model
SOAK_BIN := $(B)/bench/soak
CHAOS_RUN = VDEV_BUILD=$(B) $(TEST_BIN) --filter 'chaos/*' --verbose \
            --jobs=1 2>&1 | grep -v -e '^\[SKIP\]' -e '^\[====\] Running'; exit $${PIPESTATUS[0]}
soak: all $(SOAK_BIN) $(CHECK_DEPS)
	VDEV_BUILD=$(B) $(SOAK_BIN)
	VDEV_CHAOS_SECONDS=$${VDEV_CHAOS_SECONDS:-300} $(CHAOS_RUN)
soak-short: all $(SOAK_BIN) $(CHECK_DEPS)
	VDEV_BUILD=$(B) SOAK_MESSAGES=$${SOAK_MESSAGES:-200000} $(SOAK_BIN)
	VDEV_CHAOS_SECONDS=$${VDEV_CHAOS_SECONDS:-30} $(CHAOS_RUN)
.PHONY: soak soak-short
