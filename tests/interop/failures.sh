#!/usr/bin/env bash
# tests/interop/failures.sh - handshakes that must fail, against OpenSSL, and
# what each side says about it.
#   mutls client -> openssl s_server with a bad server certificate: untrusted
#   CA, expired, wrong name, missing intermediate. The client exits 1 and
#   names the error code and the alert it sent; s_server sees that alert.
#   Also the checks that let good certificates through (IP SAN, --insecure).
#   openssl s_client -> mutls server with nothing in common (cipher suite,
#   group, signature scheme): the server logs the code and handshake_failure,
#   s_client sees the alert.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail failures.make_certs "could not make the test certificates"
	finish
}
get=$'GET / HTTP/1.0\r\n\r\n'

# bad_cert NAME CODE ALERT OPENSSL_ALERT SERVER_ARGS -- CLIENT_ARGS: s_server
# with SERVER_ARGS; mutls client must fail with
#   "handshake failed: CODE (alert sent: ALERT): <sentence>"
# and s_server must report the alert it received (OPENSSL_ALERT, as OpenSSL
# words it: "unknown ca").
bad_cert() {
	local name=$1 code=$2 alert=$3 oalert=$4 sargs=()
	shift 4
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	if ! start_openssl_server OS -tls1_3 -www -naccept 1 "${sargs[@]}"; then
		fail "$name" "openssl s_server did not start"
		return
	fi
	mutls_client mc "$get" "127.0.0.1:$OS_port" --cacert "$P/ca.pem" "$@"
	need "mutls client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "no 'handshake failed: $code (alert sent: $alert): <sentence>'" \
		has "$T_TMP/mc.err" "^mutls client: handshake failed: $code \(alert sent: $alert\): .+"
	need "no page on stdout" test ! -s "$T_TMP/mc.out"
	# s_server writes the alert into its error report when the handshake fails
	# (on stdout or stderr, depending on where it failed).
	local i=0
	while [ $i -lt 40 ]; do
		cat "$T_TMP/OS.out" "$T_TMP/OS.err" >"$T_TMP/OS.all"
		has "$T_TMP/OS.all" "alert $oalert" && break
		sleep 0.05
		i=$((i + 1))
	done
	need "s_server did not see 'alert $oalert'" has "$T_TMP/OS.all" "alert $oalert"
	verdict "$name" "$T_TMP/mc.err" "$T_TMP/OS.out" "$T_TMP/OS.err"
	stop_bg "$OS"
}

bad_cert failures.untrusted MUTLS_E_CERT_UNTRUSTED unknown_ca "unknown ca" \
	-cert "$P/server-other.pem" -key "$P/server-other.key" -- --servername localhost
bad_cert failures.expired MUTLS_E_CERT_EXPIRED certificate_expired "certificate expired" \
	-cert "$P/server-expired.pem" -key "$P/server-expired.key" -- --servername localhost
bad_cert failures.wrong_name MUTLS_E_CERT_NAME_MISMATCH bad_certificate "bad certificate" \
	-cert "$P/server-wrong.pem" -key "$P/server-wrong.key" -- --servername localhost
# A good certificate for another name than the one asked for.
bad_cert failures.other_name MUTLS_E_CERT_NAME_MISMATCH bad_certificate "bad certificate" \
	-cert "$P/server-p256.pem" -key "$P/server-p256.key" -- --servername api.example
# The server forgets its intermediate: no path to the root.
bad_cert failures.missing_intermediate MUTLS_E_CERT_UNTRUSTED unknown_ca "unknown ca" \
	-cert "$P/server-chain.pem" -key "$P/server-chain.key" -- --servername localhost
# The client trusts another CA than the one that issued the server's cert.
if start_openssl_server OS -tls1_3 -www -naccept 1 -cert "$P/server-p256.pem" \
	-key "$P/server-p256.key"; then
	mutls_client mc "$get" "127.0.0.1:$OS_port" --servername localhost --cacert "$P/other-ca.pem"
	need "mutls client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "no 'handshake failed: MUTLS_E_CERT_UNTRUSTED (alert sent: unknown_ca)'" \
		has "$T_TMP/mc.err" "^mutls client: handshake failed: MUTLS_E_CERT_UNTRUSTED \(alert sent: unknown_ca\): .+"
	verdict failures.wrong_trust_anchor "$T_TMP/mc.err" "$T_TMP/OS.out"
	stop_bg "$OS"
else
	fail failures.wrong_trust_anchor "openssl s_server did not start"
fi

# What must pass: the IP address SAN, and --insecure past an untrusted CA.
# good NAME SERVER_ARGS -- CLIENT_ARGS
good() {
	local name=$1 sargs=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	if ! start_openssl_server OS -tls1_3 -www -naccept 1 "${sargs[@]}"; then
		fail "$name" "openssl s_server did not start"
		return
	fi
	mutls_client mc "$get" "127.0.0.1:$OS_port" "$@"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'connected to'" has "$T_TMP/mc.err" "^mutls client: connected to "
	need "no HTTP 200 page" has "$T_TMP/mc.out" "^HTTP/1\.0 200 ok"
	verdict "$name" "$T_TMP/mc.err" "$T_TMP/mc.out" "$T_TMP/OS.out"
	stop_bg "$OS"
}
good failures.ok_ip_san -cert "$P/server-p256.pem" -key "$P/server-p256.key" -- \
	--servername 127.0.0.1 --cacert "$P/ca.pem"
good failures.ok_insecure_untrusted -cert "$P/server-other.pem" -key "$P/server-other.key" -- \
	--servername localhost --insecure
# The IP address is not in server-wrong's SANs.
bad_cert failures.ip_not_in_san MUTLS_E_CERT_NAME_MISMATCH bad_certificate "bad certificate" \
	-cert "$P/server-wrong.pem" -key "$P/server-wrong.key" -- --servername 127.0.0.1

# ---- openssl s_client -> mutls server: nothing in common ------------------
# no_common NAME CODE SERVER_ARGS -- S_CLIENT_ARGS
no_common() {
	local name=$1 code=$2 sargs=() out=$T_TMP/sc.out rc
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
	s_client_echo "$out" "echo-$name" -connect "127.0.0.1:$MS_port" -tls1_3 \
		-servername localhost -CAfile "$P/ca.pem" "$@"
	rc=$?
	need "s_client succeeded" test $rc -ne 0
	need "s_client saw no handshake failure alert" has "$out" "alert handshake failure"
	need "server log has no 'failed $code alert_sent=handshake_failure: <sentence>'" \
		logged MS 1 "failed $code alert_sent=handshake_failure: .+"
	verdict "$name" "$out" "$T_TMP/MS.err"
	stop_bg "$MS"
}

p256=(--cert "$P/server-p256.pem" --key "$P/server-p256.key")
no_common failures.no_shared_cipher MUTLS_E_NO_SHARED_CIPHER \
	"${p256[@]}" --ciphers TLS_AES_128_GCM_SHA256 -- -ciphersuites TLS_AES_256_GCM_SHA384
no_common failures.no_shared_group MUTLS_E_NO_SHARED_GROUP \
	"${p256[@]}" --groups x25519 -- -groups P-256:P-384
no_common failures.no_shared_sigalg MUTLS_E_NO_SHARED_SIGALG \
	--cert "$P/server-rsa.pem" --key "$P/server-rsa.key" -- -sigalgs ECDSA+SHA256:ed25519

finish
