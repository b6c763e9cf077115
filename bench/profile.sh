#!/bin/bash
# bench/profile.sh - where mutls's time, instructions, allocations and heap go,
# for one scenario of mutls-bench (full-mutual unless SCENARIO says otherwise).
# Run from the repository root after `make build/mutls-bench`.
#
#   bench/profile.sh perf [N]       CPU time by innermost mutls function and by
#                                   kind (libcrypto, locks, malloc/free, ours):
#                                   perf record -e cpu-clock, DWARF call graphs;
#                                   N handshakes (4000)
#   bench/profile.sh callgrind [N]  instructions per handshake, inclusive, for
#                                   mutls's functions and libcrypto's entry
#                                   points; repeatable; N handshakes (200)
#   bench/profile.sh allocs [N]     heap allocations per handshake by innermost
#                                   mutls function (gdb breakpoints: slow, about
#                                   half a minute per handshake); N handshakes (1)
#   bench/profile.sh massif [P]     heap bytes per connection end by allocation
#                                   site after P pairs in lockstep (200)
#
# Environment: B (build dir, default build), SCENARIO (full-mutual,
# full-server, resumed-mutual, resumed-server: cold, mutls's verified-chain
# cache off; full-mutual-warm, full-server-warm, resumed-mutual-warm: the
# cache on, as by default), KEEP=DIR keeps the raw data
# there. A run is 5 warm-up handshakes, then N timed as a whole, then N
# timed side by side; per-handshake figures divide by all of them, 2N + 5
# (resumed: + 3 more, each run's first full handshake that gets a ticket).
set -euo pipefail

B=${B:-build}
BENCH=$B/mutls-bench
SCENARIO=${SCENARIO:-full-mutual}
WARM=5
mode=${1:-}
[ -n "$mode" ] || {
	sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}
[ -x "$BENCH" ] || {
	echo "no $BENCH: make build/mutls-bench first (or set B)" >&2
	exit 1
}
OUT=${KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/mutls-profile.XXXXXX")}
mkdir -p "$OUT"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$OUT"' EXIT

# One set of certificates for every run, so that no child process (the
# openssl CLI) shows up in a profile.
bash -c '. tests/lib.sh && make_certs "$0"' "$OUT/certs" >/dev/null 2>&1

run_bench() { # run_bench N [extra args]: mutls only, one repetition
	local n=$1
	shift
	"$@" "$BENCH" --certs "$OUT/certs" --scenario "$SCENARIO" --lib mutls --reps 1 \
		--handshakes "$n" --warmup "$WARM"
}

case $mode in
perf)
	n=${2:-4000}
	run_bench "$n" perf record -q -e cpu-clock -F 2000 --call-graph dwarf,16384 \
		-o "$OUT/perf.data" >/dev/null 2>"$OUT/perf.log"
	perf script -i "$OUT/perf.data" -F ip,sym,dso 2>/dev/null >"$OUT/perf.txt"
	python3 - "$OUT/perf.txt" <<'EOF'
# Each sample is charged to the innermost mutls function on its stack (the
# dispatchers that only pass bytes along are skipped), and split by what the
# leaf frame is doing.
import collections, re, sys
samples, cur = [], []
for line in open(sys.argv[1]):
    s = line.strip()
    if not s:
        if cur:
            samples.append(cur)
        cur = []
        continue
    parts = s.split(None, 1)
    if len(parts) == 2 and re.match(r'^[0-9a-f]+$', parts[0]):
        m = re.match(r'(.*) \((.*)\)$', parts[1])
        sym, dso = (m.group(1), m.group(2)) if m else (parts[1], '')
        cur.append((sym.replace(' (inlined)', ''), dso))
if cur:
    samples.append(cur)

def kind(sym, dso):
    if 'rwlock' in sym:
        return 'locks'
    if re.search(r'malloc|free|_int_|unlink_chunk|consolidate|calloc|realloc|tcache', sym):
        return 'malloc/free'
    if 'libcrypto' in dso:
        return 'libcrypto'
    if 'mutls-bench' in dso:
        return 'mutls'
    return 'other'

skip = {'mutls_conn_recv', 'mutls_conn_send', 'mt_record_recv', 'mt_client_handle',
        'mt_server_handle', 'process_record', 'drain_handshake'}
by_fn = collections.Counter()
split = collections.defaultdict(collections.Counter)
for st in samples:
    names = [s for s, _ in st]
    if 'm_handshakes' not in names and 'm_resumed' not in names:
        continue
    fn = next((n for n in names if re.match(r'(mt_|mutls_)', n) and n not in skip),
              '(harness)')
    by_fn[fn] += 1
    split[fn][kind(*st[0])] += 1
total = sum(by_fn.values())
kinds = ['libcrypto', 'locks', 'malloc/free', 'mutls', 'other']
print('%d samples in the handshake loop; %% of its CPU time' % total)
print('%-28s %6s ' % ('innermost mutls function', 'all') + ' '.join('%11s' % k for k in kinds))
for fn, v in by_fn.most_common(20):
    print('%-28s %6.1f ' % (fn, 100.0 * v / total) +
          ' '.join('%11.1f' % (100.0 * split[fn][k] / total) for k in kinds))
sums = collections.Counter()
for fn in split:
    sums.update(split[fn])
print('%-28s %6.1f ' % ('total', 100.0) + ' '.join('%11.1f' % (100.0 * sums[k] / total) for k in kinds))
EOF
	;;
callgrind)
	n=${2:-200}
	run_bench "$n" valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
		--toggle-collect=m_handshakes --toggle-collect=m_resumed >/dev/null 2>"$OUT/callgrind.log"
	total=$((2 * n + WARM))
	case $SCENARIO in resumed*) total=$((total + 3)) ;; esac
	echo "instructions per handshake (inclusive), over $total handshakes"
	callgrind_annotate --inclusive=yes --threshold=100 "$OUT/callgrind.out" 2>/dev/null |
		python3 -c '
import re, sys
hs, seen = int(sys.argv[1]), set()
keep = re.compile(r"(src/[a-z0-9_/]+[.]c:(mt_|mutls_|handle_)\w+)|[?]{3}:(d2i_X509|"
                  r"OSSL_DECODER_CTX_new_for_pkey|X509_verify_cert|X509_verify|EVP_DigestVerify|"
                  r"EVP_DigestSign|EVP_PKEY_generate|EVP_PKEY_derive|CRYPTO_malloc|CRYPTO_free)$")
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S+)", line)
    if not m or not keep.search(m.group(3)):
        continue
    name = re.sub(r"^.*src/", "src/", m.group(3)).replace("???:", "libcrypto:")
    if name in seen:
        continue
    seen.add(name)
    print("%10.3f M  %6s%%  %s" % (int(m.group(1).replace(",", "")) / hs / 1e6, m.group(2), name))
    if len(seen) == 45:
        break
' "$total"
	;;
allocs)
	n=${2:-1}
	cat >"$OUT/allocs.py" <<'EOF'
# Counts glibc allocations made while m_handshakes is on the stack, charged to
# the innermost mutls function; handshakes are counted by mutls_server_new.
import collections, gdb
by_fn = collections.Counter()
state = {'hs': 0, 'all': 0}
skip = ('mutls_conn_recv', 'mutls_conn_send', 'mt_record_recv', 'mt_client_handle',
        'mt_server_handle')

def frames():
    f = gdb.newest_frame()
    while f is not None:
        if f.name():
            yield f.name()
        f = f.older()

class Alloc(gdb.Breakpoint):
    def stop(self):
        names = list(frames())
        if 'm_handshakes' in names or 'm_resumed' in names:
            state['all'] += 1
            by_fn[next((x for x in names if x.startswith(('mt_', 'mutls_')) and x not in skip),
                       '(harness)')] += 1
        return False

class Handshake(gdb.Breakpoint):
    def stop(self):
        names = list(frames())
        if 'm_handshakes' in names or 'm_resumed' in names:
            state['hs'] += 1
        return False

for fn in ('__libc_malloc', '__libc_calloc', '__libc_realloc'):
    Alloc(fn, internal=True)
Handshake('mutls_server_new', internal=True)
gdb.execute('run')
hs = max(state['hs'], 1)
print('allocations per handshake: %.1f (both sides, %d handshakes)' % (state['all'] / hs, hs))
for fn, v in by_fn.most_common(25):
    print('  %-32s %8.1f' % (fn, v / hs))
EOF
	gdb -q -batch -x "$OUT/allocs.py" --args "$BENCH" --certs "$OUT/certs" --scenario "$SCENARIO" \
		--lib mutls --reps 1 --handshakes "$n" --warmup "$WARM" 2>/dev/null |
		sed -n '/^allocations per handshake/,$p'
	;;
massif)
	p=${2:-200}
	valgrind --tool=massif --massif-out-file="$OUT/massif.out" --threshold=0.5 --depth=14 \
		"$BENCH" --certs "$OUT/certs" --scenario memory --lib mutls --reps 1 --pairs "$p" \
		>/dev/null 2>"$OUT/massif.log"
	echo "heap at the peak snapshot, $p pairs = $((2 * p)) connection ends (the bench's own"
	echo "wires, bench_wire_init, are not part of a connection):"
	ms_print "$OUT/massif.out" >"$OUT/massif.txt"
	python3 - "$OUT/massif.txt" <<'EOF'
# The top-level allocation sites of the peak snapshot.
import re, sys
lines = open(sys.argv[1]).read().splitlines()
peak = next(re.search(r'(\d+) \(peak\)', l).group(1) for l in lines if '(peak)' in l)
on = False
for l in lines:
    f = l.split()
    if len(f) == 6 and f[0] == peak:
        on = True
    elif on and l.startswith('->'):
        print(l)
    elif on and l.startswith('-----'):
        break
EOF
	;;
*)
	echo "unknown mode $mode (perf, callgrind, allocs, massif)" >&2
	exit 2
	;;
esac
