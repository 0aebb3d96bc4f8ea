# Sourced by bench_insn.sh and bench_insn_model.sh.
# callgrind_cost OUT: prints a callgrind output's total instructions and
# the share of the serving loop's probe loop (runtime/server/loop.c,
# probe_events): turns spent waiting for the client's next request, which
# measure how soon the client comes back, not the work per message.
callgrind_cost() {
    local total probe
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$1")
    probe=$(callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
        awk '!f && /:probe_events( |$)/ { gsub(",", "", $1); v = $1; f = 1 }
             END { print f ? v : 0 }')
    echo "$total $probe"
}
