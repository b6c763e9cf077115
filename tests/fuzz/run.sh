#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [TARGET...] - builds the libFuzzer targets and
# runs each for SECONDS (60 by default; `make fuzz FUZZ_SECONDS=N`), one
# after another. TARGETs default to all (tests/fuzz/fuzz.mk print-targets).
#
# Each target starts from the checked-in seeds (tests/fuzz/corpus/<target>/,
# read only) and its scratch corpus (build-fuzz/run/<target>/corpus/, where
# libFuzzer writes what it finds and which the next run starts from).
# Per target it prints one line:
#   PASS fuzz <target>: <runs> runs in <s> s (<n> exec/s), cov <c>, <k> new inputs
#   FAIL fuzz <target>: <what> -- reproducer: <file>
# followed, on failure, by the sanitizer's report (indented) and the command
# that reproduces it. The full libFuzzer log is build-fuzz/run/<target>/log.
#
# Environment:
#   FUZZ_MERGE=1     afterwards, merge the inputs that add coverage into the
#                    checked-in corpus (libFuzzer -merge=1; names are hashes)
#   FUZZ_MAX_LEN     largest input libFuzzer makes (default 4096)
#   FUZZ_TIMEOUT     seconds one input may take before it counts as a hang (10)
#   FUZZ_ARGS        more libFuzzer flags, e.g. "-jobs=2 -workers=2"
#   FUZZ_OUT         where the scratch corpora and reproducers go (build-fuzz/run)
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-60}
[ $# -gt 0 ] && shift
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS] [TARGET...]" >&2
	exit 2
	;;
esac
run=${FUZZ_OUT:-build-fuzz/run}
mkdir -p "$run"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export UBSAN_OPTIONS

if ! make -s -f tests/fuzz/fuzz.mk -j"$(nproc)" >"$run/build.log" 2>&1; then
	echo "FAIL fuzz: building the fuzz targets failed (log: $run/build.log)"
	tail -n 20 "$run/build.log" | sed 's/^/    | /'
	exit 1
fi
if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=$(make -s -f tests/fuzz/fuzz.mk print-targets)
fi

# stat NAME LOG: a value of libFuzzer's -print_final_stats.
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

failed=0
for t in $targets; do
	bin=build-fuzz/$t
	seeds=tests/fuzz/corpus/$t
	dir=$run/$t
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz $t: no such target ($bin)"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$dir/corpus" "$dir/crashes" "$seeds"
	before=$(ls "$dir/corpus" | wc -l)
	start=$SECONDS
	touch "$dir/.start"
	sleep 0.01 # artifacts must be strictly newer than the mark
	# shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
	"$bin" -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
		-max_len="${FUZZ_MAX_LEN:-4096}" -print_final_stats=1 \
		-artifact_prefix="$dir/crashes/" ${FUZZ_ARGS:-} \
		"$dir/corpus" "$seeds" >"$dir/log" 2>&1
	rc=$?
	# The artifact this run wrote, if any: crash-*, leak-*, timeout-*, oom-*.
	repro=$(find "$dir/crashes" -type f -newer "$dir/.start" | head -n 1)
	if [ $rc -ne 0 ]; then
		failed=$((failed + 1))
		why=$(grep -m1 -E '^SUMMARY: |^==[0-9]+== ERROR: libFuzzer|ERROR: LeakSanitizer|runtime error: |deadly signal|^==[0-9]+==ERROR' "$dir/log")
		[ -n "$why" ] || why="libFuzzer exited with status $rc"
		echo "FAIL fuzz $t: $why -- reproducer: ${repro:-none written}"
		grep -E '^ +#[0-9]+ |ERROR|SUMMARY|runtime error' "$dir/log" | head -n 30 | sed 's/^/    | /'
		if [ -n "$repro" ]; then
			echo "    reproduce: $bin $repro"
			echo "    (after a fix, keep it as a regression seed: cp $repro $seeds/crash-<what>)"
		fi
		continue
	fi
	runs=$(stat number_of_executed_units "$dir/log")
	eps=$(stat average_exec_per_sec "$dir/log")
	cov=$(grep -E '^#[0-9]+' "$dir/log" | tail -n 1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	after=$(ls "$dir/corpus" | wc -l)
	echo "PASS fuzz $t: ${runs:-?} runs in $((SECONDS - start)) s (${eps:-?} exec/s), cov ${cov:-?}, $((after - before)) new inputs"
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		"$bin" -merge=1 "$seeds" "$dir/corpus" >"$dir/merge.log" 2>&1 &&
			echo "    merged into $seeds: now $(ls "$seeds" | wc -l) files"
	fi
done
[ "$failed" -eq 0 ]
