# Benchmarks: each bench/bench_*.c is a program bench/run.sh drives.
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/bench_*.c))
$(B)/bench/%: $(B)/bench/%.o $(LIBVDEV)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
$(BENCH_BINS:%=%.o): CFLAGS += -Igenerated
BENCH_TARGETS += $(BENCH_BINS)

# The RTT benchmark's server linked statically as well: bench_rtt reports
# its RSS beside the normal one, to separate the server's own memory from
# the shared-library pages the kernel maps. Optional: a failed static link
# (no static libraries) only drops that line.
ifneq ($(SANITIZE),1)
BENCH_STATIC := $(B)/bench/static/bench_rtt
$(BENCH_STATIC): $(B)/bench/bench_rtt.o $(LIBVDEV)
	@mkdir -p $(@D)
	-$(CC) $(LDFLAGS_ALL) -static -o $@ $^ \
	    $(shell pkg-config --static --libs talloc json-c libseccomp 2>/dev/null)
BENCH_TARGETS += $(BENCH_STATIC)
endif

# Soak: not a bench_* program, so bench/run.sh (and CI) leave it alone.
#   make soak               10 million mixed messages (SOAK_MESSAGES=N)
#   make soak-short         200000 of them
SOAK_BIN := $(B)/bench/soak
soak: all $(SOAK_BIN)
	VDEV_BUILD=$(B) $(SOAK_BIN)
soak-short: all $(SOAK_BIN)
	VDEV_BUILD=$(B) SOAK_MESSAGES=$${SOAK_MESSAGES:-200000} $(SOAK_BIN)
.PHONY: soak soak-short
