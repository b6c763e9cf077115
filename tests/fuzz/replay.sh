#!/usr/bin/env bash
# tests/fuzz/replay.sh [BUILD_DIR] - replays the checked-in fuzz corpus.
#
# tests/run.sh runs it (from the repo root, MUTLS_BUILD set, sanitizer
# options exported) as part of `make check`. BUILD_DIR defaults to
# $MUTLS_BUILD, then build-san. It builds the replay binaries into
# BUILD_DIR/fuzz-replay/ (tests/fuzz/fuzz.mk `replay`: each target linked with
# replay_main.c and BUILD_DIR/libmutls.a, ASan + UBSan, no libFuzzer), then
# runs every file of tests/fuzz/corpus/<target>/ through its target and
# prints, per target:
#   PASS fuzz-replay <target> (N inputs)
#   FAIL fuzz-replay <target>: <input>: <sanitizer summary or exit status>
# It also checks that the generated seeds still match what the library
# sends (gen_corpus check); stale seeds are a WARN line, not a failure: they
# still replay, but reach less deep until tests/fuzz/make_corpus.sh runs.
set -u
cd "$(dirname "$0")/../.." || exit 2
build=${1:-${MUTLS_BUILD:-build-san}}
build=${build%/}
lib=$build/libmutls.a
: "${ASAN_OPTIONS:=detect_leaks=1}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS UBSAN_OPTIONS

if [ ! -f "$lib" ]; then
	echo "FAIL fuzz-replay: no $lib; build the library first (make B=$build SAN=1 lib)"
	exit 1
fi

# The replay binaries must be linked by the compiler that built the library:
# gcc's and clang's ASan runtimes do not mix.
cc=${REPLAY_CC:-}
if [ -z "$cc" ]; then
	cc=cc
	if readelf -p .comment "$lib" 2>/dev/null | grep -qi clang; then
		for c in clang clang-14; do
			if command -v "$c" >/dev/null; then
				cc=$c
				break
			fi
		done
	fi
fi

out=$build/fuzz-replay
mkdir -p "$out"
log=$out/build.log
if ! make -s -f tests/fuzz/fuzz.mk replay B="$build" REPLAY_CC="$cc" >"$log" 2>&1; then
	echo "FAIL fuzz-replay: building the replay binaries with $cc failed (log: $log)"
	tail -n 20 "$log" | sed 's/^/    | /'
	exit 1
fi

status=0
for target in $(make -s -f tests/fuzz/fuzz.mk print-targets); do
	corpus=tests/fuzz/corpus/$target
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "FAIL fuzz-replay $target: no seeds in $corpus"
		status=1
		continue
	fi
	err=$out/$target.err
	result=$("$out/$target" "$corpus" 2>"$err")
	rc=$?
	if [ $rc -eq 0 ] && [[ $result =~ ^([0-9]+)\ inputs$ ]]; then
		echo "PASS fuzz-replay $target (${BASH_REMATCH[1]} inputs)"
		continue
	fi
	status=1
	input=$(grep '^running ' "$err" | tail -n 1 | sed 's/^running //; s/ ([0-9]* bytes)$//')
	why=$(grep -m1 -E '^SUMMARY: |ERROR: |runtime error: ' "$err")
	[ -n "$why" ] || why="exited with status $rc"
	echo "FAIL fuzz-replay $target: ${input:-before the first input}: $why"
	echo "    reproduce: $out/$target $input"
	grep -v '^running ' "$err" | head -n 40 | sed 's/^/    | /'
done

if ! stale=$("$out/gen_corpus" check tests/fuzz/corpus 2>&1); then
	echo "WARN fuzz-seeds: the generated seeds no longer match what the library sends;"
	echo "    run tests/fuzz/make_corpus.sh (they still replay, but reach less deep):"
	printf '%s\n' "$stale" | head -n 10 | sed 's/^/    | /'
fi
exit $status
