#!/usr/bin/env bash
# tests/fuzz/make_corpus.sh [--no-peers] - regenerates the seed corpus in
# tests/fuzz/corpus/<target>/.
#
#   gen-*   written by build-fuzz/gen_corpus from honest, deterministic runs
#           of our client and server (tests/fuzz/gen_corpus.c); replaced on
#           every run. `gen_corpus check` (in tests/fuzz/replay.sh) says when
#           the library has changed so that they no longer match.
#   peer-*  captured on loopback from other implementations: the first
#           flight of openssl s_client, gnutls-cli, Python's ssl and curl
#           (seeds for fuzz_server_recv and, the ClientHello alone, fuzz_hello),
#           and the answer of openssl s_server and gnutls-serv to our injected
#           ClientHello (fuzz_client_recv: it decrypts and verifies, since our
#           client's key share is fixed). Replaced when the peer is installed;
#           left alone otherwise. --no-peers skips them.
#   crash-* and other names: regression seeds; never touched.
#
# Needs clang-14 (to build gen_corpus), python3, and the peers it captures.
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=../lib.sh
. tests/lib.sh
corpus=tests/fuzz/corpus
certs=tests/fuzz/certs

if ! make -s -f tests/fuzz/fuzz.mk build-fuzz/gen_corpus; then
	echo "make_corpus: building gen_corpus failed" >&2
	exit 1
fi
rm -f "$corpus"/*/gen-*
build-fuzz/gen_corpus write "$corpus" || exit 1
[ "${1:-}" = --no-peers ] && exit 0

mk_tmp
py=$T_TMP/capture.py
cat >"$py" <<'PY'
import socket, sys, time

def records_complete(buf):
    """True if buf holds at least one whole TLS record."""
    return len(buf) >= 5 and len(buf) >= 5 + (buf[3] << 8 | buf[4])

def read_until_idle(sock, idle, enough=None, limit=10.0):
    buf, end = b"", time.time() + limit
    sock.settimeout(idle)
    while time.time() < end:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            if enough is None or enough(buf):
                break
            continue
        if not data:
            break
        buf += data
    return buf

def first_message(stream):
    """The first handshake message of a record stream: (type, body)."""
    hs, off = b"", 0
    while off + 5 <= len(stream):
        n = stream[off + 3] << 8 | stream[off + 4]
        if stream[off] == 22:
            hs += stream[off + 5:off + 5 + n]
        off += 5 + n
        if len(hs) >= 4 and len(hs) >= 4 + (hs[1] << 16 | hs[2] << 8 | hs[3]):
            break
    if len(hs) < 4:
        return None, b""
    return hs[0], hs[4:4 + (hs[1] << 16 | hs[2] << 8 | hs[3])]

mode = sys.argv[1]
if mode == "listen":  # listen PORTFILE OUT: the first flight of one client
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    open(sys.argv[2], "w").write(str(srv.getsockname()[1]))
    conn, _ = srv.accept()
    data = read_until_idle(conn, 0.3, records_complete)
    open(sys.argv[3], "wb").write(data)
    conn.close()
elif mode == "talk":  # talk PORT IN OUT: sends IN's first record, keeps the answer
    seed = open(sys.argv[3], "rb").read()[1:]
    first = seed[:5 + (seed[3] << 8 | seed[4])]
    s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5)
    s.sendall(first)
    open(sys.argv[4], "wb").write(read_until_idle(s, 1.0))
    s.close()
elif mode == "seed":  # seed IN OUT HEADER: OUT = HEADER byte + IN
    data = open(sys.argv[2], "rb").read()
    open(sys.argv[3], "wb").write(bytes([int(sys.argv[4])]) + data)
elif mode == "body":  # body IN OUT SELECTOR: OUT = SELECTOR + first message's body
    t, body = first_message(open(sys.argv[2], "rb").read())
    if t is not None:
        open(sys.argv[3], "wb").write(bytes([int(sys.argv[4])]) + body)
PY

# client NAME CMD...: captures CMD's first flight; PORT in CMD is replaced.
client() {
	local name=$1 pf=$T_TMP/$1.port out=$T_TMP/$1.bin pid args=() a
	shift
	python3 "$py" listen "$pf" "$out" &
	pid=$!
	wait_line "$pf" . 5
	for a in "$@"; do args+=("${a//PORT/$(cat "$pf")}"); done
	timeout 5 "${args[@]}" </dev/null >"$T_TMP/$name.log" 2>&1
	wait "$pid"
	if [ -s "$out" ]; then
		python3 "$py" seed "$out" "$corpus/fuzz_server_recv/peer-$name" 0
		python3 "$py" body "$out" "$corpus/fuzz_hello/peer-$name-client-hello" 0
		echo "captured $name: $(wc -c <"$out") bytes"
	else
		echo "no capture from $name (see $T_TMP/$name.log)"
	fi
}

# server NAME PORT: sends our default ClientHello to a peer server on PORT.
server() {
	local name=$1 out=$T_TMP/$1.bin
	if python3 "$py" talk "$2" "$corpus/fuzz_server_recv/gen-honest-default" "$out" &&
		[ -s "$out" ]; then
		python3 "$py" seed "$out" "$corpus/fuzz_client_recv/peer-$name" 0
		python3 "$py" body "$out" "$corpus/fuzz_hello/peer-$name-server-hello" 1
		echo "captured $name: $(wc -c <"$out") bytes"
	else
		echo "no capture from $name"
	fi
}

if command -v openssl >/dev/null; then
	client openssl-s_client openssl s_client -connect 127.0.0.1:PORT -servername localhost
	client openssl-s_client-p384-alpn openssl s_client -connect 127.0.0.1:PORT -tls1_3 \
		-groups P-384:X25519 -alpn h2,http/1.1 -sigalgs ed25519:ecdsa_secp384r1_sha384
	if start_openssl_server S -cert "$certs/server.pem" -key "$certs/server.key" -tls1_3 -www \
		-naccept 1; then
		# shellcheck disable=SC2154  # set by start_openssl_server
		server openssl-s_server "$S_port"
	fi
fi
if command -v gnutls-cli >/dev/null; then
	client gnutls-cli gnutls-cli --insecure --sni-hostname localhost -p PORT 127.0.0.1
fi
if command -v gnutls-serv >/dev/null; then
	port=$(free_port)
	start_bg G gnutls-serv --x509certfile "$certs/server.pem" --x509keyfile "$certs/server.key" \
		-p "$port"
	if wait_port "$port" 5; then
		server gnutls-serv "$port"
	fi
fi
client python-ssl python3 -c 'import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["http/1.1"])
try:
    ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="localhost")
except Exception:
    pass' PORT
if command -v curl >/dev/null; then
	client curl curl -sk --max-time 3 https://localhost:PORT/
fi
# Certificates of other shapes than ours, for fuzz_peer_cert: key types,
# SAN kinds, subjects. Self-signed: verification fails, extraction runs.
# cert NAME SELECTOR KEYALG SUBJECT EXTENSIONS...
cert() {
	local name=$1 sel=$2 alg=$3 subj=$4 der=$T_TMP/$1.der
	shift 4
	if openssl req -x509 -newkey "$alg" -nodes -keyout "$T_TMP/$name.key" -subj "$subj" \
		-days 30 "$@" -outform DER -out "$der" 2>"$T_TMP/$name.log"; then
		python3 - "$der" "$corpus/fuzz_peer_cert/peer-openssl-$name" "$sel" <<'PY'
import sys
der = open(sys.argv[1], "rb").read()
n = len(der)
open(sys.argv[2], "wb").write(bytes([int(sys.argv[3]), n >> 16, n >> 8 & 255, n & 255]) + der + b"\0\0")
PY
		echo "made certificate $name"
	fi
}
if command -v openssl >/dev/null; then
	mkdir -p "$corpus/fuzz_peer_cert"
	cert rsa-many-sans 0 rsa:2048 "/CN=localhost/O=mutls/OU=fuzzers" \
		-addext "subjectAltName=DNS:localhost,DNS:*.example.org,IP:127.0.0.1,IP:::1,email:a@example.org,URI:spiffe://mutls.test/a,URI:https://example.org/"
	cert p256-spiffe 7 ec:<(openssl ecparam -name prime256v1) "/CN=mutls fuzz client/OU=fuzzers/OU=more" \
		-addext "subjectAltName=URI:spiffe://mutls.test/fuzz" -addext "extendedKeyUsage=clientAuth"
	cert ed25519-utf8 1 ed25519 $'/CN=caf\xc3\xa9 \xe2\x9c\x93/O=\xe6\x97\xa5\xe6\x9c\xac' -utf8 \
		-addext "subjectAltName=IP:127.0.0.1" -addext "keyUsage=critical,digitalSignature"
	cert p384-no-san 2 ec:<(openssl ecparam -name secp384r1) "/CN=localhost" \
		-addext "basicConstraints=critical,CA:TRUE"
fi

for d in "$corpus"/*/; do
	echo "    $(basename "$d"): $(ls "$d" | wc -l) seeds, $(cat "$d"* | wc -c) bytes"
done
finish
