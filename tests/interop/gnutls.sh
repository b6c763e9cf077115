#!/usr/bin/env bash
# tests/interop/gnutls.sh - the mutls CLI against GnuTLS, both directions.
#   1. gnutls-cli -> mutls server --echo: every cipher suite x group x server
#      key type; the echo comes back, the chain is trusted, and GnuTLS's
#      session description names the suite, group and signature scheme.
#   2. mutls client -> gnutls-serv: suites and groups chosen by either side,
#      HelloRetryRequest, key types, an intermediate CA, ALPN, an optional
#      CertificateRequest answered without a certificate, and echo.
#   3. TLS 1.2 only peers on either side fail with protocol_version.
# gnutls-serv cannot be told to listen on loopback only: it binds the port on
# every address for the few hundred milliseconds a case lasts.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail gnutls.make_certs "could not make the test certificates"
	finish
}

ciphers="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
groups="x25519 secp256r1 secp384r1"
declare -A gt_cipher=([TLS_AES_128_GCM_SHA256]=AES-128-GCM [TLS_AES_256_GCM_SHA384]=AES-256-GCM
	[TLS_CHACHA20_POLY1305_SHA256]=CHACHA20-POLY1305)
declare -A gt_group=([x25519]=X25519 [secp256r1]=SECP256R1 [secp384r1]=SECP384R1)
declare -A gt_sig=([p256]=ECDSA-SECP256R1-SHA256 [p384]=ECDSA-SECP384R1-SHA384
	[rsa]='RSA-PSS-RSAE-SHA(256|384|512)' [ed25519]=EdDSA-Ed25519)
declare -A our_scheme=([p256]=ecdsa_secp256r1_sha256 [p384]=ecdsa_secp384r1_sha384
	[rsa]='rsa_pss_rsae_sha(256|384|512)' [ed25519]=ed25519)
tls13='NORMAL:-VERS-ALL:+VERS-TLS1.3'

# gcli OUT TOKEN PORT PRIORITY [ARGS...]: gnutls-cli sends TOKEN, verifies
# the server against ca.pem as "localhost".
gcli() {
	local out=$1 tok=$2 port=$3 prio=$4
	shift 4
	echo_client "$out" "$tok" gnutls-cli -p "$port" --x509cafile "$P/ca.pem" \
		--verify-hostname localhost --sni-hostname localhost --priority "$prio" "$@" 127.0.0.1
}

# ---- 1. gnutls-cli -> mutls server ----------------------------------------
for kt in p256 p384 rsa ed25519; do
	if ! start_mutls_server MS --cert "$P/server-$kt.pem" --key "$P/server-$kt.key" --echo; then
		fail "gnutls.cli.$kt" "mutls server did not start"
		continue
	fi
	n=0
	ci=0
	for c in $ciphers; do
		ci=$((ci + 1))
		gi=0
		for g in $groups; do
			gi=$((gi + 1))
			# p256 gets every suite x group; the other key types one
			# diagonal (each suite once, each group once): the signature
			# does not depend on either, and this keeps the run short.
			[ "$kt" = p256 ] || [ $ci -eq $gi ] || continue
			name=gnutls.cli.$kt.$c.$g
			tok=echo-$kt-$c-$g
			out=$T_TMP/gc.out
			gcli "$out" "$tok" "$MS_port" "$tls13:-CIPHER-ALL:+${gt_cipher[$c]}:-GROUP-ALL:+GROUP-${gt_group[$g]}"
			rc=$?
			n=$((n + 1))
			desc="\(TLS1\.3-X\.509\)-\(ECDHE-${gt_group[$g]}\)-\(${gt_sig[$kt]}\)-\(${gt_cipher[$c]}\)"
			need "gnutls-cli exited with $rc" test $rc -eq 0
			need "no echo" has "$out" "^$tok\$"
			need "not trusted" has "$out" "^- Status: The certificate is trusted"
			need "description is not ${desc//\\/}" has "$out" "^- Description: $desc\$"
			need "server log line $n is not 'ok TLSv1.3 $c $g'" logged MS $n " ok TLSv1\.3 $c $g( |\$)"
			verdict "$name" "$out" "$T_TMP/MS.err"
		done
	done
	stop_bg "$MS"
done

# HelloRetryRequest: GnuTLS sends one P-256 share; the server takes P-384 only.
if start_mutls_server MS --cert "$P/server-p256.pem" --key "$P/server-p256.key" --echo \
	--groups secp384r1; then
	out=$T_TMP/gc.out
	gcli "$out" echo-hrr "$MS_port" "$tls13:-GROUP-ALL:+GROUP-SECP256R1:+GROUP-SECP384R1"
	rc=$?
	need "gnutls-cli exited with $rc" test $rc -eq 0
	need "no echo" has "$out" "^echo-hrr\$"
	need "group is not SECP384R1" has "$out" "^- Description: .*\(ECDHE-SECP384R1\)"
	need "server log is not 'ok ... secp384r1'" logged MS 1 " ok TLSv1\.3 TLS_[A-Z0-9_]+ secp384r1( |\$)"
	verdict gnutls.cli.hrr "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail gnutls.cli.hrr "mutls server did not start"
fi

# An intermediate CA sent by the server; and ALPN.
if start_mutls_server MS --cert "$P/server-chain.pem" --key "$P/server-chain.key" --echo \
	--alpn h2,http/1.1; then
	out=$T_TMP/gc.out
	gcli "$out" echo-chain "$MS_port" "$tls13" --alpn http/1.1
	rc=$?
	need "gnutls-cli exited with $rc" test $rc -eq 0
	need "no echo" has "$out" "^echo-chain\$"
	need "not trusted" has "$out" "^- Status: The certificate is trusted"
	need "chain of 2 not received" has "$out" "^- Got a certificate list of 2 certificates"
	need "ALPN is not http/1.1" has "$out" "^- Application protocol: http/1\.1"
	verdict gnutls.cli.chain_alpn "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail gnutls.cli.chain_alpn "mutls server did not start"
fi

# A TLS 1.2 only client is refused with protocol_version (alert 70).
if start_mutls_server MS --cert "$P/server-p256.pem" --key "$P/server-p256.key" --echo; then
	out=$T_TMP/gc.out
	gcli "$out" echo-tls12 "$MS_port" 'NORMAL:-VERS-ALL:+VERS-TLS1.2'
	rc=$?
	need "gnutls-cli succeeded" test $rc -ne 0
	need "gnutls-cli saw no protocol version alert" has "$out" "Received alert \[70\]"
	need "server log has no 'failed MUTLS_E_PROTOCOL_VERSION alert_sent=protocol_version'" \
		logged MS 1 "failed MUTLS_E_PROTOCOL_VERSION alert_sent=protocol_version"
	verdict gnutls.cli.tls12_refused "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail gnutls.cli.tls12_refused "mutls server did not start"
fi

# ---- 2. mutls client -> gnutls-serv ----------------------------------------
get=$'GET / HTTP/1.0\r\n\r\n'

# start_gserv ARGS...: gnutls-serv on a free port; sets GS and GS_port.
# gnutls-serv cannot listen on port 0 and say where: ask the kernel for a free
# port, and try another if someone took it in between.
start_gserv() {
	local _
	for _ in 1 2 3; do
		GS_port=$(free_port)
		start_bg GS gnutls-serv -p "$GS_port" "$@"
		# It says so on stderr.
		if wait_line "$T_TMP/GS.err" "listening on IPv4 .* port $GS_port\.\.\.done" 5 &&
			wait_port "$GS_port" 1 && alive "$GS"; then
			return 0
		fi
		stop_bg "$GS"
	done
	return 1
}

# serv_case NAME EXPECT SERVER_ARGS -- CLIENT_ARGS: one mutls client
# connection to gnutls-serv --http; it must verify the server, get the page
# and report EXPECT inside "connected to ... (...)".
serv_case() {
	local name=$1 expect=$2 sargs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	if ! start_gserv --http "${sargs[@]}"; then
		fail "$name" "gnutls-serv did not start"
		dump "$T_TMP/GS.out" "$T_TMP/GS.err"
		stop_bg "$GS"
		return
	fi
	mutls_client mc "$get" "127.0.0.1:$GS_port" --servername localhost \
		--cacert "$P/ca.pem" "$@"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'connected to ... ($expect)'" has "$T_TMP/mc.err" "connected to .*\($expect\)"
	need "no 'server certificate verified'" \
		has "$T_TMP/mc.err" "server certificate verified: subject=.*localhost"
	need "no HTTP 200 page" has "$T_TMP/mc.out" "^HTTP/1\.0 200 OK"
	need "page does not say TLS1.3" has "$T_TMP/mc.out" "TLS1\.3"
	verdict "$name" "$T_TMP/mc.err" "$T_TMP/mc.out" "$T_TMP/GS.err"
	stop_bg "$GS"
}

p256=(--x509certfile "$P/server-p256.pem" --x509keyfile "$P/server-p256.key")
for c in $ciphers; do
	serv_case "gnutls.serv.priority.$c" \
		"TLSv1\.3, $c, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
		"${p256[@]}" -a --priority "$tls13:-CIPHER-ALL:+${gt_cipher[$c]}" --
	serv_case "gnutls.client_ciphers.$c" \
		"TLSv1\.3, $c, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
		"${p256[@]}" -a --priority "$tls13" -- --ciphers "$c"
done
for g in $groups; do
	serv_case "gnutls.serv.groups.$g" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, $g, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
		"${p256[@]}" -a --priority "$tls13:-GROUP-ALL:+GROUP-${gt_group[$g]}" -- --groups "$g"
done
for g in secp256r1 secp384r1; do
	serv_case "gnutls.serv.hrr.$g" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, $g, ecdsa_secp256r1_sha256, alpn=-, hrr=yes" \
		"${p256[@]}" -a --priority "$tls13:-GROUP-ALL:+GROUP-${gt_group[$g]}" -- \
		--groups x25519,secp256r1,secp384r1
done
for kt in p256 p384 rsa ed25519; do
	serv_case "gnutls.serv.key.$kt" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ${our_scheme[$kt]}, alpn=-, hrr=no" \
		--x509certfile "$P/server-$kt.pem" --x509keyfile "$P/server-$kt.key" -a --priority "$tls13" --
done
serv_case gnutls.serv.chain \
	"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
	--x509certfile "$P/server-chain.pem" --x509keyfile "$P/server-chain.key" -a --priority "$tls13" --
serv_case gnutls.serv.alpn \
	"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=http/1\.1, hrr=no" \
	"${p256[@]}" -a --priority "$tls13" --alpn http/1.1 -- --alpn h2,http/1.1
# Without -a gnutls-serv asks for a client certificate (optional): a client
# without one answers with an empty Certificate and the handshake goes on.
serv_case gnutls.serv.cert_request_no_cert \
	"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
	"${p256[@]}" --priority "$tls13" --

# Echo: what the client sends comes back, and the client ends the session.
if start_gserv --echo -a "${p256[@]}" --priority "$tls13"; then
	mutls_client mc "hello gnutls echo"$'\n' "127.0.0.1:$GS_port" --servername localhost \
		--cacert "$P/ca.pem"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no echo on stdout" has "$T_TMP/mc.out" "^hello gnutls echo\$"
	verdict gnutls.serv.echo "$T_TMP/mc.err" "$T_TMP/mc.out" "$T_TMP/GS.out"
else
	fail gnutls.serv.echo "gnutls-serv did not start"
fi
stop_bg "$GS"

# A TLS 1.2 only server. GnuTLS finds no TLS 1.2 cipher suite in our TLS 1.3
# ClientHello and answers handshake_failure (OpenSSL says protocol_version):
# the client must fail and name the alert it received.
if start_gserv --http -a "${p256[@]}" --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2'; then
	mutls_client mc "$get" "127.0.0.1:$GS_port" --servername localhost --cacert "$P/ca.pem"
	need "mutls client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "no 'handshake failed: MUTLS_E_PEER_ALERT'" \
		has "$T_TMP/mc.err" "^mutls client: handshake failed: MUTLS_E_PEER_ALERT "
	need "no handshake_failure received" has "$T_TMP/mc.err" "alert received: handshake_failure"
	verdict gnutls.serv.tls12_refused "$T_TMP/mc.err" "$T_TMP/GS.out"
else
	fail gnutls.serv.tls12_refused "gnutls-serv did not start"
fi
stop_bg "$GS"

finish
