#!/usr/bin/env bash
# tests/interop/openssl.sh - the mutls CLI against OpenSSL, both directions.
#   1. openssl s_client -> mutls server --echo: every cipher suite x group x
#      server key type; the echo comes back, s_client verified the chain and
#      reports the suite, group and signature type; the server logs them.
#   2. mutls client -> openssl s_server -www: every cipher suite and group
#      chosen by either side, HelloRetryRequest, every server key type, an
#      intermediate CA, ALPN, and key log lines equal to OpenSSL's.
#   3. TLS 1.2 only peers on either side fail with protocol_version.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail openssl.make_certs "could not make the test certificates"
	finish
}

ciphers="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
# OpenSSL group name -> ours, and what s_client prints as "Server Temp Key".
declare -A our_group=([X25519]=x25519 [P-256]=secp256r1 [P-384]=secp384r1)
declare -A temp_key=([X25519]="X25519" [P-256]="ECDH, prime256v1" [P-384]="ECDH, secp384r1")
# Server key type -> what s_client prints as "Peer signature type" (and the
# digest TLS 1.3 forces for ECDSA keys), and our scheme name.
declare -A sig_type=([p256]=ECDSA [p384]=ECDSA [rsa]=RSA-PSS [ed25519]=ed25519)
declare -A sig_digest=([p256]=SHA256 [p384]=SHA384)
declare -A our_scheme=([p256]=ecdsa_secp256r1_sha256 [p384]=ecdsa_secp384r1_sha384
	[rsa]='rsa_pss_rsae_sha(256|384|512)' [ed25519]=ed25519)

# ---- 1. openssl s_client -> mutls server ----------------------------------
for kt in p256 p384 rsa ed25519; do
	if ! start_mutls_server MS --cert "$P/server-$kt.pem" --key "$P/server-$kt.key" --echo; then
		fail "openssl.s_client.$kt" "mutls server did not start"
		continue
	fi
	n=0
	ci=0
	for c in $ciphers; do
		ci=$((ci + 1))
		gi=0
		for g in X25519 P-256 P-384; do
			gi=$((gi + 1))
			# p256 gets every suite x group; the other key types one
			# diagonal (each suite once, each group once): the signature
			# does not depend on either, and this keeps the run short.
			[ "$kt" = p256 ] || [ $ci -eq $gi ] || continue
			name=openssl.s_client.$kt.$c.$g
			tok=echo-$kt-$c-$g
			out=$T_TMP/sc.out
			s_client_echo "$out" "$tok" -connect "127.0.0.1:$MS_port" -tls1_3 \
				-servername localhost -verify_hostname localhost -CAfile "$P/ca.pem" \
				-verify_return_error -ciphersuites "$c" -groups "$g"
			rc=$?
			n=$((n + 1))
			need "s_client exited with $rc" test $rc -eq 0
			need "no echo" has "$out" "^$tok\$"
			need "cipher is not $c" has "$out" "^New, TLSv1\.3, Cipher is $c\$"
			need "temp key is not ${temp_key[$g]}" has "$out" "^Server Temp Key: ${temp_key[$g]}"
			need "signature type is not ${sig_type[$kt]}" \
				has "$out" "^Peer signature type: ${sig_type[$kt]}\$"
			if [ -n "${sig_digest[$kt]:-}" ]; then
				need "digest is not ${sig_digest[$kt]}" \
					has "$out" "^Peer signing digest: ${sig_digest[$kt]}\$"
			fi
			need "not verified" has "$out" "Verify return code: 0 \(ok\)"
			need "server log line $n is not 'ok TLSv1.3 $c ${our_group[$g]}'" \
				logged MS $n " ok TLSv1\.3 $c ${our_group[$g]}( |\$)"
			verdict "$name" "$out" "$T_TMP/MS.err"
		done
	done
	stop_bg "$MS"
done

# The server sends its intermediate: s_client trusts only the root.
if start_mutls_server MS --cert "$P/server-chain.pem" --key "$P/server-chain.key" --echo; then
	out=$T_TMP/sc.out
	s_client_echo "$out" echo-chain -connect "127.0.0.1:$MS_port" -tls1_3 \
		-servername localhost -verify_hostname localhost -CAfile "$P/ca.pem" -verify_return_error
	rc=$?
	need "s_client exited with $rc" test $rc -eq 0
	need "no echo" has "$out" "^echo-chain\$"
	need "not verified" has "$out" "Verify return code: 0 \(ok\)"
	need "chain depth 1 not shown" has "$out" "^ 1 s:CN ?= ?mutls test intermediate CA"
	verdict openssl.s_client.chain "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail openssl.s_client.chain "mutls server did not start"
fi

# ALPN: agreed, and refused with no_application_protocol.
if start_mutls_server MS --cert "$P/server-p256.pem" --key "$P/server-p256.key" --echo \
	--alpn h2,http/1.1; then
	out=$T_TMP/sc.out
	s_client_echo "$out" echo-alpn -connect "127.0.0.1:$MS_port" -tls1_3 \
		-servername localhost -CAfile "$P/ca.pem" -verify_return_error -alpn http/1.1
	rc=$?
	need "s_client exited with $rc" test $rc -eq 0
	need "no echo" has "$out" "^echo-alpn\$"
	need "ALPN not http/1.1" has "$out" "^ALPN protocol: http/1\.1\$"
	need "server log has no alpn=http/1.1" logged MS 1 "alpn=http/1\.1"
	verdict openssl.s_client.alpn "$out" "$T_TMP/MS.err"

	s_client_echo "$out" echo-noalpn -connect "127.0.0.1:$MS_port" -tls1_3 \
		-servername localhost -CAfile "$P/ca.pem" -alpn spdy/1
	rc=$?
	need "s_client succeeded" test $rc -ne 0
	need "s_client saw no 'no application protocol' alert" has "$out" "alert no application protocol"
	need "server log has no MUTLS_E_NO_APPLICATION_PROTOCOL" \
		logged MS 2 "failed MUTLS_E_NO_APPLICATION_PROTOCOL alert_sent=no_application_protocol"
	verdict openssl.s_client.alpn_mismatch "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail openssl.s_client.alpn "mutls server did not start"
fi

# A share the server accepts is taken, though it prefers another group: no
# HelloRetryRequest, no round trip (RFC 8446 4.2.8).
if start_mutls_server MS --cert "$P/server-p256.pem" --key "$P/server-p256.key" --echo \
	--groups secp256r1:x25519; then
	out=$T_TMP/sc.out
	s_client_echo "$out" echo-share -connect "127.0.0.1:$MS_port" -tls1_3 \
		-servername localhost -CAfile "$P/ca.pem" -verify_return_error -groups X25519:P-256
	rc=$?
	need "s_client exited with $rc" test $rc -eq 0
	need "no echo" has "$out" "^echo-share\$"
	need "temp key is not X25519" has "$out" "^Server Temp Key: X25519"
	need "server log line is not 'ok TLSv1.3 ... x25519 ... hrr=no'" \
		logged MS 1 " ok TLSv1\.3 TLS_[A-Z0-9_]+ x25519 .*hrr=no"
	verdict openssl.s_client.share_before_preference "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail openssl.s_client.share_before_preference "mutls server did not start"
fi

# TLS 1.2 only client: refused with protocol_version.
if start_mutls_server MS --cert "$P/server-p256.pem" --key "$P/server-p256.key" --echo; then
	out=$T_TMP/sc.out
	s_client_echo "$out" echo-tls12 -connect "127.0.0.1:$MS_port" -no_tls1_3 \
		-servername localhost -CAfile "$P/ca.pem"
	rc=$?
	need "s_client succeeded" test $rc -ne 0
	need "s_client saw no protocol version alert" has "$out" "alert protocol version"
	need "server log has no 'failed MUTLS_E_PROTOCOL_VERSION alert_sent=protocol_version'" \
		logged MS 1 "failed MUTLS_E_PROTOCOL_VERSION alert_sent=protocol_version"
	verdict openssl.s_client.tls12_refused "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail openssl.s_client.tls12_refused "mutls server did not start"
fi

# ---- 2. mutls client -> openssl s_server -----------------------------------
get=$'GET / HTTP/1.0\r\n\r\n'

# client_case NAME EXPECT_REGEX SERVER_ARGS -- CLIENT_ARGS: one s_server
# connection (-www, -naccept 1) and one mutls client; the client must succeed,
# verify the server, get the page and report EXPECT_REGEX inside
# "connected to ... (...)".
client_case() {
	local name=$1 expect=$2 sargs=() cargs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	cargs=("$@")
	if ! start_openssl_server OS -tls1_3 -www -naccept 1 "${sargs[@]}"; then
		fail "$name" "openssl s_server did not start"
		return
	fi
	mutls_client mc "$get" "127.0.0.1:$OS_port" --servername localhost \
		--cacert "$P/ca.pem" "${cargs[@]}"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'connected to ... ($expect)'" has "$T_TMP/mc.err" "connected to .*\($expect\)"
	need "no 'server certificate verified'" \
		has "$T_TMP/mc.err" "server certificate verified: subject=.*localhost"
	need "no HTTP 200 page" has "$T_TMP/mc.out" "^HTTP/1\.0 200 ok"
	verdict "$name" "$T_TMP/mc.err" "$T_TMP/mc.out" "$T_TMP/OS.out" "$T_TMP/OS.err"
	stop_bg "$OS"
}

p256=(-cert "$P/server-p256.pem" -key "$P/server-p256.key")
for c in $ciphers; do
	# The server allows only c.
	client_case "openssl.s_server.ciphersuites.$c" \
		"TLSv1\.3, $c, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
		"${p256[@]}" -ciphersuites "$c" --
	# The client offers only c.
	client_case "openssl.client_ciphers.$c" \
		"TLSv1\.3, $c, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
		"${p256[@]}" -- --ciphers "$c"
done
for g in X25519 P-256 P-384; do
	client_case "openssl.s_server.groups.$g" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, ${our_group[$g]}, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
		"${p256[@]}" -groups "$g" -- --groups "${our_group[$g]}"
done
# The client's first group is x25519; the server takes only P-256 or P-384.
for g in P-256 P-384; do
	client_case "openssl.s_server.hrr.$g" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, ${our_group[$g]}, ecdsa_secp256r1_sha256, alpn=-, hrr=yes" \
		"${p256[@]}" -groups "$g" -- --groups "x25519,secp256r1,secp384r1"
done
for kt in p256 p384 rsa ed25519; do
	client_case "openssl.s_server.key.$kt" \
		"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ${our_scheme[$kt]}, alpn=-, hrr=no" \
		-cert "$P/server-$kt.pem" -key "$P/server-$kt.key" --
done
client_case openssl.s_server.chain \
	"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no" \
	-cert "$P/server-chain.pem" -cert_chain "$P/inter-ca.pem" -key "$P/server-chain.key" --
client_case openssl.s_server.alpn \
	"TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=http/1\.1, hrr=no" \
	"${p256[@]}" -alpn http/1.1 -- --alpn h2,http/1.1

# Key log: every secret we log is the one OpenSSL derived.
if start_openssl_server OS -tls1_3 -www -naccept 1 "${p256[@]}" -keylogfile "$T_TMP/ossl.keys"; then
	mutls_client mc "$get" "127.0.0.1:$OS_port" --servername localhost --cacert "$P/ca.pem" \
		--keylog "$T_TMP/mutls.keys"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	wait_line "$T_TMP/ossl.keys" '^SERVER_TRAFFIC_SECRET_0 ' 5
	for label in CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET \
		CLIENT_TRAFFIC_SECRET_0 SERVER_TRAFFIC_SECRET_0; do
		ours=$(grep "^$label " "$T_TMP/mutls.keys" 2>/dev/null)
		need "no $label line" test -n "$ours"
		need "$label differs from OpenSSL's" grep -qxF -- "$ours" "$T_TMP/ossl.keys"
	done
	verdict openssl.keylog "$T_TMP/mc.err" "$T_TMP/mutls.keys" "$T_TMP/ossl.keys"
	stop_bg "$OS"
else
	fail openssl.keylog "openssl s_server did not start"
fi

# TLS 1.2 only server: the handshake fails on protocol_version.
if start_openssl_server OS -no_tls1_3 -www -naccept 1 "${p256[@]}"; then
	mutls_client mc "$get" "127.0.0.1:$OS_port" --servername localhost --cacert "$P/ca.pem"
	need "mutls client succeeded" test $MC_RC -ne 0
	need "no 'handshake failed'" has "$T_TMP/mc.err" "^mutls client: handshake failed: MUTLS_E_"
	need "no protocol_version" has "$T_TMP/mc.err" "protocol_version"
	verdict openssl.s_server.tls12_refused "$T_TMP/mc.err" "$T_TMP/OS.out" "$T_TMP/OS.err"
	stop_bg "$OS"
else
	fail openssl.s_server.tls12_refused "openssl s_server did not start"
fi

finish
