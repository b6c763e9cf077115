#!/usr/bin/env bash
# demo.sh BUILD_DIR - the `make demo` main job: mutual TLS from nothing, on
# loopback only, in a few seconds.
#   1. `mutls ca` makes a CA, a server certificate and two client
#      certificates: billing (spiffe://demo.test/billing/api), which the
#      server's policy allows, and ci-runner (spiffe://demo.test/ci/runner),
#      which it does not;
#   2. `mutls server --http --client-auth require --allow-uri ...` starts on a
#      port the kernel picks;
#   3. three clients connect: billing (accepted: both sides show the verified
#      identities), ci-runner (refused by the policy: access_denied) and one
#      without a certificate (certificate_required); each time the client's
#      lines and the server's log line are shown;
#   4. the server is stopped by its PID.
# Exits 0 only if all three outcomes were exactly the expected ones. Leaves no
# process and no file behind (everything lives in a mktemp -d directory).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
mutls="$1/mutls"
if [ ! -x "$mutls" ]; then
	echo "demo: no $mutls; build it first (make)" >&2
	exit 1
fi
# The demo works in its own directory: make the path absolute.
mutls=$(cd "$1" && pwd)/mutls

work=$(mktemp -d "${TMPDIR:-/tmp}/mutls-demo.XXXXXX")
server_pid=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
# EXIT covers every way out; INT and TERM go through it too.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\n== %s\n' "$*"; }
# show FILE [WIDTH]: a file's lines, set off from ours; a line longer than
# WIDTH (96) wraps at spaces, its continuation indented.
show() {
	awk -v w="${2:-96}" '{
		line = $0; lead = "    | "
		while (length(line) > w) {
			cut = w
			while (cut > 1 && substr(line, cut, 1) != " ") cut--
			if (cut <= 1) cut = w
			print lead substr(line, 1, cut)
			line = substr(line, cut + 1); lead = "    |     "
		}
		print lead line
	}' "$1"
}
# cmd WORDS...: the command being run, as one would type it (words with
# spaces or shell characters in single quotes).
cmd() {
	local w line=
	for w in "$@"; do
		case $w in
		*[!A-Za-z0-9_./:=@%+,-]*) line="$line '$w'" ;;
		*) line="$line $w" ;;
		esac
	done
	printf '  $%s\n' "$line"
}
# The demo's own verdicts.
failures=0
ok() { printf '  -> as expected: %s\n' "$*"; }
bad() {
	printf '  -> NOT AS EXPECTED: %s\n' "$*"
	failures=$((failures + 1))
}

echo "mutls demo: mutual TLS from nothing, on 127.0.0.1 only."

# ---- 1. certificates --------------------------------------------------------------------
say "1. A CA, a server certificate and two client certificates, made by mutls ca"
echo "   (in $work, removed when the demo ends)"
cd "$work"
# run_ca ARGS...: `mutls ca ARGS`, quiet unless it fails.
run_ca() {
	cmd mutls ca "$@"
	if ! "$mutls" ca "$@" >ca.log 2>&1; then
		echo "demo: mutls ca $1 failed:" >&2
		show ca.log >&2
		exit 1
	fi
}
run_ca init pki --name "mutls demo CA"
run_ca issue pki --server localhost --ip 127.0.0.1
run_ca issue pki --client billing --uri spiffe://demo.test/billing/api
run_ca issue pki --client ci-runner --uri spiffe://demo.test/ci/runner
cmd mutls ca list pki
"$mutls" ca list pki >ca.log 2>&1 || true
show ca.log 120

# ---- 2. the server -----------------------------------------------------------------------
say "2. A mutual TLS server: a client certificate from the CA is required, and the"
echo "   policy allows only SPIFFE IDs under spiffe://demo.test/billing/"
echo "  \$ mutls server --listen 127.0.0.1:0 --http --cert pki/issued/localhost.pem \\"
echo "        --key pki/issued/localhost.key --client-ca pki/ca.pem --client-auth require \\"
echo "        --allow-uri 'spiffe://demo.test/billing/*' &"
"$mutls" server --listen 127.0.0.1:0 --http \
	--cert pki/issued/localhost.pem --key pki/issued/localhost.key \
	--client-ca pki/ca.pem --client-auth require \
	--allow-uri 'spiffe://demo.test/billing/*' \
	</dev/null >server.out 2>server.err &
server_pid=$!
# The server prints "listening on HOST:PORT" once its socket listens.
port=
for _ in $(seq 100); do
	port=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' server.out)
	[ -n "$port" ] && break
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$port" ]; then
	echo "demo: the server did not start; it said:" >&2
	show server.err >&2
	exit 1
fi
echo "   the server said: $(cat server.out)   (pid $server_pid)"

# connect NAME ARGS...: one HTTP request through `mutls client --confirm`
# (it waits until the server has judged its certificate), trusting only the
# demo CA. Output in NAME.out and NAME.err, status in rc; the server's log
# line for it in NAME.log.
logged=0
connect() {
	local name=$1
	shift
	printf '  $ %s \\\n' "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | mutls client 127.0.0.1:$port --servername localhost"
	echo "        --cacert pki/ca.pem --confirm${*:+ $*}"
	rc=0
	printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' |
		timeout 20 "$mutls" client "127.0.0.1:$port" --servername localhost \
			--cacert pki/ca.pem --confirm "$@" >"$name.out" 2>"$name.err" || rc=$?
	# The server logs each connection once it is done with it.
	logged=$((logged + 1))
	for _ in $(seq 100); do
		[ "$(grep -c '^mutls server: ' server.err)" -ge "$logged" ] && break
		sleep 0.05
	done
	grep '^mutls server: ' server.err | sed -n "${logged}p" >"$name.log"
	echo "   The client (exit status $rc) says on stderr:"
	show "$name.err"
	echo "   The server's log line for it:"
	show "$name.log"
}

# ---- 3. three clients --------------------------------------------------------------------
say "3a. billing (spiffe://demo.test/billing/api): the policy allows it"
connect billing --cert pki/issued/billing.pem --key pki/issued/billing.key
echo "   The server's answer (the client's stdout): who the server sees, as it verified it:"
sed -n '/^client certificate:/,$p' billing.out >billing.page
show billing.page
if [ "$rc" -eq 0 ] &&
	grep -q '^mutls client: server certificate verified: subject=CN=localhost ' billing.err &&
	grep -q '^mutls client: client certificate sent: subject=CN=billing .*sans=URI:spiffe://demo\.test/billing/api ' billing.err &&
	grep -q '^mutls client: server confirmed acceptance$' billing.err &&
	grep -q $'^HTTP/1\\.1 200 OK\r$' billing.out &&
	grep -q '^client spiffe id: spiffe://demo\.test/billing/api$' billing.out &&
	grep -Eq ' ok TLSv1\.3 .* client=spiffe://demo\.test/billing/api resumed=no http=200 end=closed_by_server$' billing.log; then
	ok "accepted; the client verified CN=localhost, the server verified spiffe://demo.test/billing/api"
else
	bad "billing should have been accepted, with both identities shown"
fi

say "3b. ci-runner (spiffe://demo.test/ci/runner): a valid certificate, refused by the policy"
connect ci-runner --cert pki/issued/ci-runner.pem --key pki/issued/ci-runner.key
if [ "$rc" -eq 1 ] && [ ! -s ci-runner.out ] &&
	grep -q '^mutls client: handshake failed: MUTLS_E_PEER_ALERT (alert received: access_denied): ' ci-runner.err &&
	grep -Eq ' failed MUTLS_E_ACCESS_DENIED alert_sent=access_denied: .*URI:spiffe://demo\.test/ci/runner.* is not allowed' ci-runner.log; then
	ok "refused with access_denied; the server's line names the identity and the rule"
else
	bad "ci-runner should have been refused with access_denied on both sides"
fi

say "3c. A client without a certificate"
connect anonymous
if [ "$rc" -eq 1 ] && [ ! -s anonymous.out ] &&
	grep -q '^mutls client: handshake failed: MUTLS_E_PEER_ALERT (alert received: certificate_required): ' anonymous.err &&
	grep -q ' failed MUTLS_E_CERT_MISSING alert_sent=certificate_required: ' anonymous.log; then
	ok "refused with certificate_required on both sides"
else
	bad "a client without a certificate should have been refused with certificate_required"
fi

# ---- 4. stop -----------------------------------------------------------------------------
say "4. Stop the server (SIGTERM to pid $server_pid)"
kill "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
tail -n 1 server.err >server.last
show server.last
if [ "$server_status" -eq 0 ]; then
	ok "the server stopped, exit status 0; nothing is left running"
else
	bad "the server exited with status $server_status"
fi

echo
if [ "$failures" -eq 0 ]; then
	echo "demo: OK - mutual TLS from nothing: one client let in, one refused by policy,"
	echo "      one refused for having no certificate, each side saying why."
	exit 0
fi
echo "demo: FAILED - $failures outcome(s) were not the expected ones (see above)." >&2
exit 1
