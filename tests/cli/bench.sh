#!/usr/bin/env bash
# tests/cli/bench.sh - mutls bench: its help answers, a missing benchmark
# program is one clear sentence, and a smoke run prints a number for every
# library in the machine-readable lines. The numbers are never judged.
# shellcheck source=tests/cli/cli.bash
. "$(dirname "$0")/cli.bash"
cli_begin bench

run_mutls help-bench help bench
need "exit $RC, not 0" test $RC -eq 0
need "no 'Usage: mutls bench'" has "$T_TMP/help-bench.out" '^Usage: mutls bench '
need "does not say how to build it" has "$T_TMP/help-bench.out" 'make bench'
need "stderr not empty" empty "$T_TMP/help-bench.err"
verdict bench.help "$T_TMP/help-bench.out" "$T_TMP/help-bench.err"

# Without mutls-bench beside it: exit 1, one sentence naming the fix.
mkdir -p "$T_TMP/alone"
cp "$MUTLS" "$T_TMP/alone/mutls"
timeout "$T_TIMEOUT" "$T_TMP/alone/mutls" bench --quick </dev/null >"$T_TMP/alone.out" 2>"$T_TMP/alone.err"
RC=$?
need "exit $RC, not 1" test $RC -eq 1
need "stderr is not one sentence naming make bench" one_sentence "$T_TMP/alone.err" \
	"^mutls bench: the benchmark program .*/alone/mutls-bench is not built; run \`make bench\`"
need "something on stdout" empty "$T_TMP/alone.out"
verdict bench.not_built "$T_TMP/alone.err" "$T_TMP/alone.out"

# A smoke run of every scenario through both libraries (make check builds
# mutls-bench beside mutls): all of them, so that the whole report is made
# as in a real run. Under the sanitizers allocations are not counted; rates
# and bytes are still printed.
if [ ! -x "$MUTLS_BUILD/mutls-bench" ]; then
	fail bench.smoke "no $MUTLS_BUILD/mutls-bench (make tests builds it)"
	finish
fi
T_TIMEOUT=240 run_mutls smoke bench --quick --no-pin -r 1
need "exit $RC, not 0" test $RC -eq 0
num='[0-9]+(\.[0-9]+)?'
for s in full-server full-server-warm full-mutual full-mutual-warm resumed-server \
	resumed-mutual resumed-mutual-warm; do
	need "no rate line for $s with both numbers" has "$T_TMP/smoke.out" \
		"^bench scenario=$s stat=rate unit=hs/s mutls=$num openssl=$num ratio=$num "
done
need "no bulk line with both numbers" has "$T_TMP/smoke.out" \
	"^bench scenario=bulk-[a-z0-9-]+ stat=[a-z-]+ unit=MB/s mutls=$num openssl=$num "
need "no zero-copy bulk line (bulk-<suite>-view) with both numbers" has "$T_TMP/smoke.out" \
	"^bench scenario=bulk-[a-z0-9-]+-view stat=[a-z-]+ unit=MB/s mutls=$num openssl=$num "
need "no bench-meta line" has "$T_TMP/smoke.out" '^bench-meta mutls='
verdict bench.smoke "$T_TMP/smoke.out" "$T_TMP/smoke.err"

# An unknown scenario is a usage error, not an empty run.
run_mutls bad-scenario bench --quick -s frob
need "exit $RC, not 2" test $RC -eq 2
need "stderr does not name the scenario" has "$T_TMP/bad-scenario.err" "frob"
verdict bench.unknown_scenario "$T_TMP/bad-scenario.out" "$T_TMP/bad-scenario.err"

finish
