#!/usr/bin/env bash
# demo.sh BUILD_DIR - the `make demo` main job, on loopback only:
#   1. makes a throwaway CA and a server certificate with the openssl CLI,
#   2. starts `mutls server --http` on 127.0.0.1, on a port the kernel picks,
#   3. sends one HTTP request through `mutls client`, which verifies the server,
#   4. shows what happened, stops the server.
# Exits 0 only if the client succeeded. Leaves no process and no file behind.
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
if ! command -v openssl >/dev/null; then
	echo "demo: the openssl command is needed to make the certificates (apt-get install openssl)" >&2
	exit 1
fi

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

# indent FILE: shows a file's lines under a heading, set off from ours.
indent() { sed 's/^/    | /' "$1"; }

say() { printf '\n== %s\n' "$*"; }

# ---- 1. certificates ---------------------------------------------------------------
say "1. A throwaway CA and a server certificate (in $work)"
cat >"$work/x509.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost,IP:127.0.0.1
EOF
(
	cd "$work"
	export OPENSSL_CONF=$PWD/x509.cnf
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
	openssl req -new -x509 -config x509.cnf -key ca.key -subj "/CN=mutls demo CA" \
		-extensions ca -days 2 -sha256 -out ca.pem
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key 2>/dev/null
	openssl req -new -config x509.cnf -key server.key -subj /CN=localhost -out server.csr
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 -sha256 \
		-extfile x509.cnf -extensions server -out server.pem 2>/dev/null
)
echo "   ca.pem      CN=mutls demo CA, ECDSA P-256: the only CA the client will trust"
echo "   server.pem  CN=localhost, ECDSA P-256, signed by that CA:"
openssl x509 -in "$work/server.pem" -noout -ext subjectAltName,extendedKeyUsage | sed 's/^/               /'

# ---- 2. the server -----------------------------------------------------------------
say "2. mutls server --listen 127.0.0.1:0 --http (port 0: the kernel picks a free one)"
"$mutls" server --listen 127.0.0.1:0 --http --cert "$work/server.pem" --key "$work/server.key" \
	</dev/null >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
# The server prints "listening on HOST:PORT" once its socket listens.
port=
for _ in $(seq 100); do
	port=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/server.out")
	[ -n "$port" ] && break
	if ! kill -0 "$server_pid" 2>/dev/null; then
		break
	fi
	sleep 0.05
done
if [ -z "$port" ]; then
	echo "demo: the server did not start; it said:" >&2
	indent "$work/server.err" >&2
	exit 1
fi
echo "   the server said: $(cat "$work/server.out")   (pid $server_pid)"

# ---- 3. the client -----------------------------------------------------------------
say "3. An HTTP request through mutls client, trusting only the demo CA"
printf '%s\n' "   printf 'GET / HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' |"
echo "     mutls client 127.0.0.1:$port --servername localhost --cacert ca.pem"
client_status=0
printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' |
	timeout 30 "$mutls" client "127.0.0.1:$port" --servername localhost --cacert "$work/ca.pem" \
		>"$work/client.out" 2>"$work/client.err" || client_status=$?

echo
echo "   The client's report (stderr): the handshake's negotiated parameters, then the"
echo "   server's certificate, checked against ca.pem and the name 'localhost':"
indent "$work/client.err"
echo
echo "   What the server sent back (the client's stdout): mutls server --http describes"
echo "   the TLS connection it sees, from its side:"
indent "$work/client.out"

# ---- 4. the server's log, and stop -------------------------------------------------
# The server logs a connection before its close_notify, but give it a moment
# in case the client failed early.
for _ in $(seq 40); do
	grep -q '^mutls server: ' "$work/server.err" && break
	sleep 0.05
done
say "4. The server's log line for that connection (stderr), then stop it"
indent "$work/server.err"
kill "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
echo "   server stopped with SIGTERM (exit status $server_status)"

echo
if [ "$client_status" -eq 0 ]; then
	echo "demo: OK - a TLS 1.3 connection to a server the client verified itself."
	exit 0
fi
echo "demo: FAILED - mutls client exited with status $client_status (see its report above)." >&2
exit 1
