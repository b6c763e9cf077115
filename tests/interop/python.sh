#!/usr/bin/env bash
# tests/interop/python.sh - the mutls CLI against Python's ssl module.
#   1. Python client (create_default_context(cafile=...), TLS 1.3 minimum) ->
#      mutls server --echo: each server key type, an intermediate CA, ALPN,
#      and a TLS 1.2 only client refused with protocol_version.
#   2. mutls client -> Python ssl echo server: each key type, ALPN, and
#      HelloRetryRequest (the server takes one group, set_ecdh_curve).
# Python's ssl cannot pick TLS 1.3 cipher suites; the other scripts cover them.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail python.make_certs "could not make the test certificates"
	finish
}

cat >"$T_TMP/pypeer.py" <<'EOF'
# pypeer.py client HOST PORT CAFILE TOKEN [--alpn P] [--tls12]
# pypeer.py server CERT KEY [--alpn P] [--curve NAME]
import socket
import ssl
import sys


def opt(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def client():
    host, port, cafile, token = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    ctx = ssl.create_default_context(cafile=cafile)
    if "--tls12" in sys.argv:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if opt("--alpn"):
        ctx.set_alpn_protocols(opt("--alpn").split(","))
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            print("version=%s cipher=%s alpn=%s" % (s.version(), s.cipher()[0],
                                                    s.selected_alpn_protocol() or "-"))
            want = (token + "\n").encode()
            s.sendall(want)
            got = b""
            while len(got) < len(want):
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            print("reply=%s" % got.decode(errors="replace").rstrip("\n"))
            s.unwrap()


def server():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    if opt("--alpn"):
        ctx.set_alpn_protocols(opt("--alpn").split(","))
    if opt("--curve"):
        ctx.set_ecdh_curve(opt("--curve"))
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    print("listening on 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
    while True:
        raw, addr = ls.accept()
        raw.settimeout(10)
        peer = "%s:%d" % addr
        try:
            s = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            print("pypeer server: %s failed: %s" % (peer, e), file=sys.stderr, flush=True)
            raw.close()
            continue
        print("pypeer server: %s ok %s %s alpn=%s" % (peer, s.version(), s.cipher()[0],
              s.selected_alpn_protocol() or "-"), file=sys.stderr, flush=True)
        # One line back, then close_notify: the session ends whatever the client does.
        try:
            line = b""
            while not line.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                line += chunk
            s.sendall(line)
            s.unwrap()
        except (ssl.SSLError, OSError) as e:
            print("pypeer server: %s after handshake: %s" % (peer, e), file=sys.stderr, flush=True)
        s.close()


try:
    {"client": client, "server": server}[sys.argv[1]]()
except (ssl.SSLError, OSError) as e:
    print("pypeer %s: %s" % (sys.argv[1], e), file=sys.stderr)
    sys.exit(1)
EOF
PY=$T_TMP/pypeer.py

declare -A our_scheme=([p256]=ecdsa_secp256r1_sha256 [p384]=ecdsa_secp384r1_sha384
	[rsa]='rsa_pss_rsae_sha(256|384|512)' [ed25519]=ed25519)

# ---- 1. Python client -> mutls server --------------------------------------
# py_case NAME LOG_REGEX SERVER_ARGS -- CLIENT_ARGS
py_case() {
	local name=$1 expect=$2 sargs=() out=$T_TMP/py.out rc
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	if ! start_mutls_server MS --echo "${sargs[@]}"; then
		fail "$name" "mutls server did not start"
		return
	fi
	timeout "$T_TIMEOUT" "$PYTHON" "$PY" client 127.0.0.1 "$MS_port" "$P/ca.pem" "echo-$name" "$@" \
		>"$out" 2>&1
	rc=$?
	need "python client exited with $rc" test $rc -eq 0
	need "not TLSv1.3" has "$out" "^version=TLSv1\.3 "
	need "no echo" has "$out" "^reply=echo-$name\$"
	need "server log is not '$expect'" logged MS 1 "$expect"
	verdict "$name" "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
}

for kt in p256 p384 rsa ed25519; do
	py_case "python.client.key.$kt" " ok TLSv1\.3 TLS_[A-Z0-9_]+ x25519( |\$)" \
		--cert "$P/server-$kt.pem" --key "$P/server-$kt.key" --
done
py_case python.client.chain " ok TLSv1\.3 " \
	--cert "$P/server-chain.pem" --key "$P/server-chain.key" --
py_case python.client.alpn " ok TLSv1\.3 .*alpn=http/1\.1" \
	--cert "$P/server-p256.pem" --key "$P/server-p256.key" --alpn h2,http/1.1 -- --alpn http/1.1

# TLS 1.2 only: refused with protocol_version.
if start_mutls_server MS --echo --cert "$P/server-p256.pem" --key "$P/server-p256.key"; then
	out=$T_TMP/py.out
	timeout "$T_TIMEOUT" "$PYTHON" "$PY" client 127.0.0.1 "$MS_port" "$P/ca.pem" echo-tls12 --tls12 \
		>"$out" 2>&1
	rc=$?
	need "python client succeeded" test $rc -ne 0
	need "python saw no protocol version alert" has "$out" "TLSV1_ALERT_PROTOCOL_VERSION"
	need "server log has no 'failed MUTLS_E_PROTOCOL_VERSION alert_sent=protocol_version'" \
		logged MS 1 "failed MUTLS_E_PROTOCOL_VERSION alert_sent=protocol_version"
	verdict python.client.tls12_refused "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail python.client.tls12_refused "mutls server did not start"
fi

# ---- 2. mutls client -> Python server --------------------------------------
# srv_case NAME EXPECT SERVER_ARGS -- CLIENT_ARGS: the Python server echoes one
# line and closes; the client must verify it, print the line, and report
# EXPECT inside "connected to ... (...)".
srv_case() {
	local name=$1 expect=$2 sargs=() line
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	start_bg PS "$PYTHON" "$PY" server "${sargs[@]}"
	if ! wait_line "$T_TMP/PS.out" '^listening on ' 5; then
		fail "$name" "python server did not start"
		dump "$T_TMP/PS.err"
		stop_bg "$PS"
		return
	fi
	line=$(grep -m1 '^listening on ' "$T_TMP/PS.out")
	mutls_client mc "hello $name"$'\n' "127.0.0.1:${line##*:}" --servername localhost \
		--cacert "$P/ca.pem" "$@"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'connected to ... ($expect)'" has "$T_TMP/mc.err" "connected to .*\($expect\)"
	need "no 'server certificate verified'" \
		has "$T_TMP/mc.err" "server certificate verified: subject=.*localhost"
	need "no echo on stdout" has "$T_TMP/mc.out" "^hello $name\$"
	need "python server did not log ok TLSv1.3" has "$T_TMP/PS.err" "^pypeer server: .* ok TLSv1\.3 "
	verdict "$name" "$T_TMP/mc.err" "$T_TMP/mc.out" "$T_TMP/PS.err"
	stop_bg "$PS"
}

for kt in p256 p384 rsa ed25519; do
	srv_case "python.server.key.$kt" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ${our_scheme[$kt]}, alpn=-, hrr=no" \
		"$P/server-$kt.pem" "$P/server-$kt.key" --
done
srv_case python.server.chain \
	"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
	"$P/server-chain.pem" "$P/server-chain.key" --
srv_case python.server.alpn \
	"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=http/1\.1, hrr=no" \
	"$P/server-p256.pem" "$P/server-p256.key" --alpn http/1.1 -- --alpn h2,http/1.1
srv_case python.server.hrr \
	"TLSv1\.3, TLS_[A-Z0-9_]+, secp384r1, ecdsa_secp256r1_sha256, alpn=-, hrr=yes" \
	"$P/server-p256.pem" "$P/server-p256.key" --curve secp384r1 -- \
	--groups x25519,secp256r1,secp384r1

finish
