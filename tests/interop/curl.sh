#!/usr/bin/env bash
# tests/interop/curl.sh - curl (libcurl + OpenSSL) against `mutls server --http`.
#   Each cipher suite (curl --tls13-ciphers) and group (curl --curves): HTTP
#   200 and a body that names TLSv1.3 and the suite; ALPN http/1.1 agreed
#   when the server offers it; a chain with an intermediate CA.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail curl.make_certs "could not make the test certificates"
	finish
}

ciphers="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
declare -A our_group=([X25519]=x25519 [P-256]=secp256r1 [P-384]=secp384r1)

# fetch PORT ARGS...: curl https://localhost:PORT/ pinned to 127.0.0.1; the
# body in $T_TMP/body, "CODE HTTPVERSION" in $T_TMP/wout, -v in $T_TMP/curl.err.
fetch() {
	local port=$1
	shift
	timeout "$T_TIMEOUT" curl -sS -v --tlsv1.3 --cacert "$P/ca.pem" \
		--resolve "localhost:$port:127.0.0.1" -o "$T_TMP/body" \
		-w '%{http_code} %{http_version}\n' "$@" "https://localhost:$port/" \
		>"$T_TMP/wout" 2>"$T_TMP/curl.err"
}

if start_mutls_server MS --http --cert "$P/server-p256.pem" --key "$P/server-p256.key"; then
	n=0
	for c in $ciphers; do
		fetch "$MS_port" --tls13-ciphers "$c"
		rc=$?
		n=$((n + 1))
		need "curl exited with $rc" test $rc -eq 0
		need "not HTTP 200" has "$T_TMP/wout" "^200 "
		need "body does not mention TLSv1.3" has "$T_TMP/body" "TLSv1\.3"
		need "body does not mention $c" has "$T_TMP/body" "$c"
		need "curl did not use $c" has "$T_TMP/curl.err" "SSL connection using TLSv1\.3 / $c"
		need "server log line $n is not 'ok TLSv1.3 $c'" logged MS $n " ok TLSv1\.3 $c "
		verdict "curl.cipher.$c" "$T_TMP/curl.err" "$T_TMP/body" "$T_TMP/MS.err"
	done
	for g in X25519 P-256 P-384; do
		fetch "$MS_port" --curves "$g"
		rc=$?
		n=$((n + 1))
		need "curl exited with $rc" test $rc -eq 0
		need "not HTTP 200" has "$T_TMP/wout" "^200 "
		need "body does not mention TLSv1.3" has "$T_TMP/body" "TLSv1\.3"
		need "server log line $n is not 'ok TLSv1.3 ... ${our_group[$g]}'" \
			logged MS $n " ok TLSv1\.3 TLS_[A-Z0-9_]+ ${our_group[$g]}( |\$)"
		verdict "curl.group.$g" "$T_TMP/curl.err" "$T_TMP/body" "$T_TMP/MS.err"
	done
	# No ALPN configured: curl offers h2 and http/1.1, gets none, speaks 1.1.
	fetch "$MS_port"
	rc=$?
	need "curl exited with $rc" test $rc -eq 0
	need "not HTTP/1.1 200" has "$T_TMP/wout" "^200 1\.1\$"
	verdict curl.no_alpn "$T_TMP/curl.err" "$T_TMP/body"
	stop_bg "$MS"
else
	fail curl.cipher "mutls server did not start"
fi

# ALPN: the server offers http/1.1; curl --http1.1 asks for it.
if start_mutls_server MS --http --alpn http/1.1 --cert "$P/server-p256.pem" \
	--key "$P/server-p256.key"; then
	fetch "$MS_port" --http1.1
	rc=$?
	need "curl exited with $rc" test $rc -eq 0
	need "not HTTP/1.1 200" has "$T_TMP/wout" "^200 1\.1\$"
	need "ALPN http/1.1 not accepted" has "$T_TMP/curl.err" "ALPN.*server accepted.*http/1\.1"
	need "body does not mention TLSv1.3" has "$T_TMP/body" "TLSv1\.3"
	need "server log has no alpn=http/1.1" logged MS 1 "alpn=http/1\.1"
	verdict curl.alpn_http11 "$T_TMP/curl.err" "$T_TMP/body" "$T_TMP/MS.err"
	# curl offers h2 first: the server must pick http/1.1, its only protocol.
	fetch "$MS_port"
	rc=$?
	need "curl exited with $rc" test $rc -eq 0
	need "not HTTP/1.1 200" has "$T_TMP/wout" "^200 1\.1\$"
	need "ALPN http/1.1 not accepted" has "$T_TMP/curl.err" "ALPN.*server accepted.*http/1\.1"
	verdict curl.alpn_h2_offered "$T_TMP/curl.err" "$T_TMP/body" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail curl.alpn_http11 "mutls server did not start"
fi

# A chain: curl trusts only the root.
if start_mutls_server MS --http --cert "$P/server-chain.pem" --key "$P/server-chain.key"; then
	fetch "$MS_port"
	rc=$?
	need "curl exited with $rc" test $rc -eq 0
	need "not HTTP 200" has "$T_TMP/wout" "^200 "
	verdict curl.chain "$T_TMP/curl.err" "$T_TMP/body" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail curl.chain "mutls server did not start"
fi

finish
