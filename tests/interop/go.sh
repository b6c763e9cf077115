#!/usr/bin/env bash
# tests/interop/go.sh - the mutls CLI against Go's crypto/tls (tests/interop/gopeer).
#   1. gopeer client -> mutls server --echo: each group, each cipher suite
#      (chosen by our server; gopeer checks what was negotiated), each server
#      key type, HelloRetryRequest, an intermediate CA, ALPN.
#   2. mutls client -> gopeer server: each group, each cipher suite (chosen by
#      our client), HelloRetryRequest (Go's CurvePreferences), key types, an
#      intermediate CA, ALPN, and echo.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail go.make_certs "could not make the test certificates"
	finish
}
if ! build_gopeer; then
	fail go.build_gopeer "could not build tests/interop/gopeer (is golang-go installed?)"
	finish
fi

ciphers="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
groups="x25519 secp256r1 secp384r1"
declare -A our_scheme=([p256]=ecdsa_secp256r1_sha256 [p384]=ecdsa_secp384r1_sha384
	[rsa]='rsa_pss_rsae_sha(256|384|512)' [ed25519]=ed25519)

# ---- 1. gopeer client -> mutls server -------------------------------------
# go_case NAME SERVER_LOG_REGEX SERVER_ARGS -- GOPEER_ARGS: a fresh mutls
# server, one gopeer client that must verify it and get its echo back.
go_case() {
	local name=$1 expect=$2 sargs=() tok out=$T_TMP/gc.out
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
	tok="echo-$name"
	timeout "$T_TIMEOUT" "$GOPEER" client -connect "127.0.0.1:$MS_port" -servername localhost \
		-cacert "$P/ca.pem" -send "$tok" "$@" >"$out" 2>&1
	local rc=$?
	need "gopeer client exited with $rc" test $rc -eq 0
	need "not TLSv1.3" has "$out" "^version=TLSv1\.3 "
	need "no echo" has "$out" "^reply=$tok\$"
	need "server log is not '$expect'" logged MS 1 "$expect"
	verdict "$name" "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
}

p256=(--cert "$P/server-p256.pem" --key "$P/server-p256.key")
for g in $groups; do
	go_case "go.client.groups.$g" " ok TLSv1\.3 TLS_[A-Z0-9_]+ $g( |\$)" \
		"${p256[@]}" -- -groups "$g"
done
for c in $ciphers; do
	go_case "go.client.server_ciphers.$c" " ok TLSv1\.3 $c x25519( |\$)" \
		"${p256[@]}" --ciphers "$c" -- -ciphers "$c"
done
for kt in p256 p384 rsa ed25519; do
	go_case "go.client.key.$kt" " ok TLSv1\.3 TLS_[A-Z0-9_]+ x25519( |\$)" \
		--cert "$P/server-$kt.pem" --key "$P/server-$kt.key" --
done
# Go sends a key share for its first group only: P-256 (or P-384) here,
# while our server takes x25519 only -> HelloRetryRequest.
for g in secp256r1 secp384r1; do
	go_case "go.client.hrr.$g" " ok TLSv1\.3 TLS_[A-Z0-9_]+ x25519( |\$)" \
		"${p256[@]}" --groups x25519 -- -groups "$g,x25519"
done
go_case go.client.chain " ok TLSv1\.3 " \
	--cert "$P/server-chain.pem" --key "$P/server-chain.key" --
go_case go.client.alpn " ok TLSv1\.3 .*alpn=http/1\.1" \
	"${p256[@]}" --alpn h2,http/1.1 -- -alpn http/1.1

# ---- 2. mutls client -> gopeer server -------------------------------------
get=$'GET / HTTP/1.0\r\n\r\n'

# start_gopeer ARGS...: gopeer server on 127.0.0.1:0; sets GP and GP_port.
start_gopeer() {
	local line
	start_bg GP "$GOPEER" server -listen 127.0.0.1:0 "$@"
	wait_line "$T_TMP/GP.out" '^listening on ' 5 || return 1
	line=$(grep -m1 '^listening on ' "$T_TMP/GP.out")
	GP_port=${line##*:}
}

# serv_case NAME EXPECT GOPEER_ARGS -- CLIENT_ARGS: one mutls client request
# to gopeer server -http; it must verify the server, get the page and report
# EXPECT inside "connected to ... (...)".
serv_case() {
	local name=$1 expect=$2 sargs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	if ! start_gopeer -http "${sargs[@]}"; then
		fail "$name" "gopeer server did not start"
		dump "$T_TMP/GP.err"
		stop_bg "$GP"
		return
	fi
	mutls_client mc "$get" "127.0.0.1:$GP_port" --servername localhost \
		--cacert "$P/ca.pem" "$@"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'connected to ... ($expect)'" has "$T_TMP/mc.err" "connected to .*\($expect\)"
	need "no 'server certificate verified'" \
		has "$T_TMP/mc.err" "server certificate verified: subject=.*localhost"
	need "no HTTP 200 page" has "$T_TMP/mc.out" "^HTTP/1\.1 200 OK"
	need "page does not say TLSv1.3" has "$T_TMP/mc.out" "^gopeer: TLSv1\.3 "
	verdict "$name" "$T_TMP/mc.err" "$T_TMP/mc.out" "$T_TMP/GP.err"
	stop_bg "$GP"
}

gp256=(-cert "$P/server-p256.pem" -key "$P/server-p256.key")
for g in $groups; do
	serv_case "go.server.groups.$g" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, $g, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
		"${gp256[@]}" -groups "$g" -- --groups "$g"
done
for g in secp256r1 secp384r1; do
	serv_case "go.server.hrr.$g" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, $g, ecdsa_secp256r1_sha256, alpn=-, hrr=yes" \
		"${gp256[@]}" -groups "$g" -- --groups x25519,secp256r1,secp384r1
done
for c in $ciphers; do
	serv_case "go.server.client_ciphers.$c" \
		"TLSv1\.3, $c, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
		"${gp256[@]}" -ciphers "$c" -- --ciphers "$c"
done
for kt in p256 p384 rsa ed25519; do
	serv_case "go.server.key.$kt" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ${our_scheme[$kt]}, alpn=-, hrr=no" \
		-cert "$P/server-$kt.pem" -key "$P/server-$kt.key" --
done
serv_case go.server.chain \
	"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
	-cert "$P/server-chain.pem" -key "$P/server-chain.key" --
serv_case go.server.alpn \
	"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=http/1\.1, hrr=no" \
	"${gp256[@]}" -alpn http/1.1 -- --alpn h2,http/1.1

# Echo: the client sends its stdin, prints the reply, and ends the session.
if start_gopeer "${gp256[@]}"; then
	mutls_client mc "hello go echo"$'\n' "127.0.0.1:$GP_port" --servername localhost \
		--cacert "$P/ca.pem"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no echo on stdout" has "$T_TMP/mc.out" "^hello go echo\$"
	verdict go.server.echo "$T_TMP/mc.err" "$T_TMP/mc.out" "$T_TMP/GP.err"
else
	fail go.server.echo "gopeer server did not start"
fi
stop_bg "$GP"

finish
