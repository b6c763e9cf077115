#!/usr/bin/env bash
# tests/run.sh BUILD_DIR [FILTER] - runs every test and counts the results.
#
# Runs, from the repo root and one after another:
#   BUILD_DIR/tests/{unit,vectors,negative}/*   the C test programs
#   tests/fuzz/replay.sh                        fuzz corpus replay, if present
#   tests/cli/*.sh, tests/interop/*.sh          the shell tests
# with MUTLS_BUILD=<absolute BUILD_DIR>, LeakSanitizer on and UBSan fatal.
# FILTER, an extended regex, keeps only the programs whose path matches.
#
# Every program prints "PASS <name>" or "FAIL <name>: <why>" lines; they are
# echoed and counted. A program that times out (TEST_TIMEOUT seconds, 300 by
# default), or exits non-zero without printing a FAIL, costs one more failure.
# The last line is "N passed, M failed"; the status is non-zero if M > 0 or
# N == 0.
set -u

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR [FILTER]" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
filter=${2:-}
cd "$(dirname "$0")/.." || exit 2

export MUTLS_BUILD=$build
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
limit=${TEST_TIMEOUT:-300}

passed=0
failed=0
# A line no test prints: carries the exit status out of the pipe.
mark=$'\x01status='

# run_one LABEL CMD...: runs one program, echoes and counts its lines.
run_one() {
	local label=$1 line status=0 fails=0 start
	shift
	if [ -n "$filter" ] && ! [[ $label =~ $filter ]]; then
		return 0
	fi
	echo "== $label"
	start=$SECONDS
	# timeout -k: TERM first, then KILL if the program ignores it. GNU timeout
	# signals the program's whole process group, so its helpers go too.
	while IFS= read -r line; do
		if [[ $line == *"$mark"* ]]; then
			# The status line; the program's last line may lack its newline.
			status=${line##*"$mark"}
			line=${line%"$mark"*}
			[ -n "$line" ] || continue
		fi
		case $line in
		"PASS "*) passed=$((passed + 1)) ;;
		"FAIL "*)
			failed=$((failed + 1))
			fails=$((fails + 1))
			;;
		esac
		printf '%s\n' "$line"
	done < <(
		timeout -k 10 "$limit" "$@" </dev/null 2>&1
		echo "$mark$?"
	)
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		echo "FAIL $label: timed out after $limit s"
		failed=$((failed + 1))
	elif [ "$status" -ne 0 ] && [ "$fails" -eq 0 ]; then
		echo "FAIL $label: exited with status $status"
		failed=$((failed + 1))
	fi
	echo "   ($label: $((SECONDS - start)) s)"
}

for dir in unit vectors negative; do
	[ -d "$build/tests/$dir" ] || continue
	for prog in "$build/tests/$dir"/*; do
		[ -f "$prog" ] && [ -x "$prog" ] || continue
		run_one "tests/$dir/${prog##*/}" "$prog"
	done
done

# Fuzz corpus replay: the script decides whether replay binaries exist.
if [ -f tests/fuzz/replay.sh ]; then
	run_one tests/fuzz/replay.sh bash tests/fuzz/replay.sh
fi

for script in tests/cli/*.sh tests/interop/*.sh; do
	[ -f "$script" ] || continue
	run_one "$script" bash "$script"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
