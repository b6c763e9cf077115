# tests/cli/cli.bash - what the tests/cli/*.sh scripts share, on top of
# tests/lib.sh. Not a test itself: tests/run.sh runs *.sh only.
# shellcheck shell=bash disable=SC2034  # globals (P256, TRUST, RC) are read by the scripts
#
# Every script: `. "$(dirname "$0")/cli.bash"`, then `cli_begin NAME [pki]`.
# Ports come from `--listen 127.0.0.1:0` and the "listening on" line; every
# process started here is recorded and stopped by PID (lib.sh's EXIT trap).

# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# cli_begin NAME [pki]: temp dir, the CLI must exist, and with "pki" the test
# certificates in $P (see make_certs in lib.sh). Sets CLI_NAME, the prefix of
# every check name.
cli_begin() {
	CLI_NAME=$1
	mk_tmp
	have_mutls || finish
	if [ "${2:-}" = pki ]; then
		P=$T_TMP/pki
		if ! make_certs "$P"; then
			fail "$CLI_NAME.make_certs" "could not make the test certificates"
			finish
		fi
		P256=(--cert "$P/server-p256.pem" --key "$P/server-p256.key")
		TRUST=(--cacert "$P/ca.pem" --servername localhost)
	fi
}

# run_mutls NAME ARGS...: `mutls ARGS` with stdin from /dev/null; stdout and
# stderr in $T_TMP/NAME.out and .err, the status in RC.
run_mutls() {
	local name=$1
	shift
	timeout "$T_TIMEOUT" "$MUTLS" "$@" </dev/null >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
}

# one_sentence FILE REGEX: FILE is exactly one line, and it matches REGEX.
one_sentence() {
	[ "$(wc -l <"$1")" -eq 1 ] && has "$1" "$2"
}

# empty FILE
empty() { [ ! -s "$1" ]; }

# wait_exit PID [LIMIT]: waits up to LIMIT seconds (5) for a background
# process of ours to end by itself, then reaps it: its status in RC (or 255
# if it was still running and had to be killed). It is then no longer
# stopped by the EXIT trap, nor checked by stop_bg.
wait_exit() {
	local pid=$1 limit=${2:-5} i=0 p rest=
	while alive "$pid" && [ $i -lt $((limit * 20)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if alive "$pid"; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		RC=255
	else
		wait "$pid" 2>/dev/null
		RC=$?
	fi
	for p in $T_PIDS; do
		[ "$p" = "$pid" ] || rest="$rest $p"
	done
	T_PIDS=$rest
	# Newer lib.sh versions check the exit of servers they started; this one
	# was checked here.
	if declare -p T_MUTLS_ERR >/dev/null 2>&1; then
		unset "T_MUTLS_ERR[$pid]" "T_MUTLS_ARGS[$pid]"
	fi
	return 0
}

# child_of PID: the PID of PID's only child (start_bg runs every command
# under `timeout`; signals meant for mutls go to that child).
child_of() { pgrep -P "$1" | head -n 1; }

# hold_until FILE LIMIT [PIDFILE]: returns once FILE exists, its directory
# is gone, LIMIT seconds passed, or the process whose PID is in PIDFILE has
# ended. Keeps a client's stdin open meanwhile.
hold_until() {
	local file=$1 limit=$2 pidfile=${3:-} i=0 pid
	while [ ! -e "$file" ] && [ -d "${file%/*}" ] && [ $i -lt $((limit * 20)) ]; do
		if [ -n "$pidfile" ] && [ -s "$pidfile" ]; then
			read -r pid <"$pidfile"
			alive "$pid" || return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# held_client VAR FEED ARGS...: starts `mutls client ARGS` in the background.
# Its stdin gets FEED (printf %b) and then stays open until release VAR (or
# the client ends), so the connection stays up. Output in $T_TMP/VAR.out and
# .err; VAR is set to its PID, which is recorded for cleanup. The feeder is a
# process substitution, not a pipeline: `wait` on VAR waits for the client
# alone.
held_client() {
	local var=$1 feed=$2 pid
	shift 2
	: >"$T_TMP/$var.out"
	: >"$T_TMP/$var.err"
	rm -f "$T_TMP/$var.go" "$T_TMP/$var.pid"
	timeout 30 "$MUTLS" client "$@" >"$T_TMP/$var.out" 2>"$T_TMP/$var.err" < <(
		printf '%b' "$feed"
		hold_until "$T_TMP/$var.go" 20 "$T_TMP/$var.pid"
	) &
	pid=$!
	echo "$pid" >"$T_TMP/$var.pid"
	T_PIDS="$T_PIDS $pid"
	printf -v "$var" '%s' "$pid"
}

# release VAR: ends the stdin of the held client VAR.
release() { : >"$T_TMP/$1.go"; }

# tcp_probe PORT MODE LIMIT: a plain TCP client (Python) that connects and
#   silent   sends nothing,
#   partial  sends a TLS record header announcing a 512-byte handshake
#            record, then nothing,
#   trickle  sends that header and then one byte every 0.2 s,
# until the server closes the connection or LIMIT seconds pass. Prints
# "closed after S" (seconds, 2 decimals) or "open after LIMIT".
tcp_probe() {
	"$PYTHON" -I -S - "$@" <<'EOF'
import select, socket, sys, time
port, mode, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
start = time.monotonic()
if mode != "silent":
    s.sendall(b"\x16\x03\x01\x02\x00")
while time.monotonic() - start < limit:
    r, _, _ = select.select([s], [], [], 0.2)
    try:
        if r and not s.recv(4096):
            print("closed after %.2f" % (time.monotonic() - start))
            sys.exit(0)
        if mode == "trickle":
            s.sendall(b"\x00")
    except OSError:
        print("closed after %.2f" % (time.monotonic() - start))
        sys.exit(0)
print("open after %g" % limit)
EOF
}

# between VALUE LOW HIGH: LOW <= VALUE <= HIGH, decimals allowed.
between() {
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'
}
