#!/usr/bin/env bash
# tests/cli/serve.sh - mutls client and mutls server talking to each other
# (and to openssl where an independent view is needed): echo, the --http
# page, --once, ALPN, key log, cipher suite and group choice, many clients.
# shellcheck source=tests/cli/cli.bash
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
. "$(dirname "$0")/cli.bash"
cli_begin serve pki

# The client's report line: "connected to ADDR (VERSION, SUITE, GROUP,
# SCHEME, alpn=A, hrr=H)". reported NAME REGEX: the part in parentheses of
# $T_TMP/NAME.err matches REGEX (anchored).
reported() {
	has "$T_TMP/$1.err" "^mutls client: connected to 127\.0\.0\.1:[0-9]+ \($2\)\$"
}
get=$'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'

# ---- echo -------------------------------------------------------------------------

if start_mutls_server ES "${P256[@]}" --echo; then
	mutls_client echo $'hello, echo\nsecond line\n' "127.0.0.1:$ES_port" "${TRUST[@]}"
	printf 'hello, echo\nsecond line\n' >"$T_TMP/echo.want"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "the echo differs from what was sent" same "$T_TMP/echo.out" "$T_TMP/echo.want"
	need "no report line" reported echo 'TLSv1\.3, TLS_AES_128_GCM_SHA256, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no'
	need "no 'server certificate verified: subject=CN=localhost issuer=CN=mutls test CA'" \
		has "$T_TMP/echo.err" '^mutls client: server certificate verified: subject=CN=localhost issuer=CN=mutls test CA '
	need "server log is not 'ok TLSv1.3 ... bytes_in=24 bytes_out=24 hrr=no end=close_notify'" \
		logged ES 1 ' ok TLSv1\.3 TLS_AES_128_GCM_SHA256 x25519 sni=localhost alpn=- bytes_in=24 bytes_out=24 hrr=no end=close_notify$'
	verdict serve.echo "$T_TMP/echo.err" "$T_TMP/ES.err"

	# 1 MiB of random bytes both ways: many records, and a socket buffer
	# that fills while the client is still sending.
	head -c 1048576 /dev/urandom >"$T_TMP/big.in"
	timeout "$T_TIMEOUT" "$MUTLS" client "127.0.0.1:$ES_port" "${TRUST[@]}" --quiet \
		<"$T_TMP/big.in" >"$T_TMP/big.out" 2>"$T_TMP/big.err"
	rc=$?
	need "client exited with $rc" test $rc -eq 0
	need "the 1 MiB came back different ($(wc -c <"$T_TMP/big.out") bytes)" \
		same "$T_TMP/big.in" "$T_TMP/big.out"
	need "--quiet printed something" empty "$T_TMP/big.err"
	need "server log is not 'bytes_in=1048576 bytes_out=1048576 ... end=close_notify'" \
		logged ES 2 ' bytes_in=1048576 bytes_out=1048576 hrr=no end=close_notify$'
	verdict serve.echo_1mib "$T_TMP/big.err" "$T_TMP/ES.err"

	# ---- several clients at once -------------------------------------------------
	# Each sends a line and keeps its connection open; every echo must come
	# back while all of them are still connected.
	n=8
	for i in $(seq $n); do
		held_client "C$i" "client-$i\n" "127.0.0.1:$ES_port" "${TRUST[@]}" --quiet
	done
	for i in $(seq $n); do
		need "client $i got no echo while all $n were open" wait_line "$T_TMP/C$i.out" "^client-$i\$" 10
	done
	for i in $(seq $n); do release "C$i"; done
	for i in $(seq $n); do
		c=C$i
		wait_exit "${!c}" 10
		need "client $i exited with $RC" test $RC -eq 0
	done
	need "the server did not log $n more 'ok' lines" \
		wait_count "$T_TMP/ES.err" ' ok TLSv1\.3 .* bytes_in=9 bytes_out=9 .*end=close_notify$' $n 5
	verdict serve.concurrent_clients "$T_TMP/ES.err" "$T_TMP/C1.err"
	stop_bg "$ES"
else
	fail serve.echo "mutls server did not start"
fi

# ---- --http ---------------------------------------------------------------------------

# content_length_ok FILE: the Content-Length header equals the body's size.
content_length_ok() {
	local declared actual
	declared=$(sed -n 's/^Content-Length: \([0-9]*\)\r$/\1/p' "$1")
	actual=$(sed '1,/^\r$/d' "$1" | wc -c)
	[ -n "$declared" ] && [ "$declared" -eq "$actual" ]
}

if start_mutls_server HS "${P256[@]}" --http; then
	mutls_client h200 "$get" "127.0.0.1:$HS_port" "${TRUST[@]}" --ciphers TLS_AES_256_GCM_SHA384
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "status line is not 'HTTP/1.1 200 OK'" has "$T_TMP/h200.out" $'^HTTP/1\\.1 200 OK\r$'
	need "no 'Content-Type: text/plain'" has "$T_TMP/h200.out" $'^Content-Type: text/plain\r$'
	need "Content-Length is not the body's length" content_length_ok "$T_TMP/h200.out"
	need "the page does not name TLSv1.3" has "$T_TMP/h200.out" '^protocol: TLSv1\.3$'
	need "the page does not name the suite TLS_AES_256_GCM_SHA384" \
		has "$T_TMP/h200.out" '^cipher suite: TLS_AES_256_GCM_SHA384$'
	need "the client did not report that suite" reported h200 'TLSv1\.3, TLS_AES_256_GCM_SHA384, .*'
	need "the page does not name the SNI" has "$T_TMP/h200.out" '^sni: localhost$'
	need "server log is not 'ok TLSv1.3 TLS_AES_256_GCM_SHA384 ... http=200 end=closed_by_server'" \
		logged HS 1 ' ok TLSv1\.3 TLS_AES_256_GCM_SHA384 .* http=200 end=closed_by_server$'
	verdict serve.http_200 "$T_TMP/h200.out" "$T_TMP/h200.err" "$T_TMP/HS.err"

	mutls_client h400 $'GARBAGE\r\n\r\n' "127.0.0.1:$HS_port" "${TRUST[@]}" --quiet
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "status line is not 'HTTP/1.1 400 Bad Request'" \
		has "$T_TMP/h400.out" $'^HTTP/1\\.1 400 Bad Request\r$'
	need "the body does not say why" \
		has "$T_TMP/h400.out" "^bad request: the request line is not 'METHOD TARGET HTTP/1\\.x'\$"
	need "Content-Length is not the body's length" content_length_ok "$T_TMP/h400.out"
	need "server log has no 'http=400 end=closed_by_server'" \
		logged HS 2 ' http=400 end=closed_by_server$'
	verdict serve.http_400_malformed "$T_TMP/h400.out" "$T_TMP/HS.err"

	mutls_client h400v $'GET / HTTP/2.0\r\n\r\n' "127.0.0.1:$HS_port" "${TRUST[@]}" --quiet
	need "status line is not 'HTTP/1.1 400 Bad Request'" \
		has "$T_TMP/h400v.out" $'^HTTP/1\\.1 400 Bad Request\r$'
	need "the body does not say why" \
		has "$T_TMP/h400v.out" '^bad request: only HTTP/1\.0 and HTTP/1\.1 requests are served$'
	verdict serve.http_400_version "$T_TMP/h400v.out" "$T_TMP/HS.err"

	mutls_client head $'HEAD / HTTP/1.0\r\n\r\n' "127.0.0.1:$HS_port" "${TRUST[@]}" --quiet
	need "status line is not 'HTTP/1.1 200 OK'" has "$T_TMP/head.out" $'^HTTP/1\\.1 200 OK\r$'
	need "HEAD got a body" test "$(sed '1,/^\r$/d' "$T_TMP/head.out" | wc -c)" -eq 0
	need "no Content-Length of the page" has "$T_TMP/head.out" $'^Content-Length: [1-9][0-9]*\r$'
	verdict serve.http_head "$T_TMP/head.out" "$T_TMP/HS.err"
	stop_bg "$HS"
else
	fail serve.http_200 "mutls server did not start"
fi

# ---- --once ---------------------------------------------------------------------------

if start_mutls_server OS "${P256[@]}" --once; then
	mutls_client once $'once\n' "127.0.0.1:$OS_port" "${TRUST[@]}" --quiet
	need "client exited with $MC_RC" test $MC_RC -eq 0
	wait_exit "$OS" 5
	need "server exited with $RC, not 0" test $RC -eq 0
	need "no 'ok' log line" has "$T_TMP/OS.err" '^mutls server: 127\.0\.0\.1:[0-9]+ ok TLSv1\.3 '
	verdict serve.once_ok "$T_TMP/OS.err"
else
	fail serve.once_ok "mutls server did not start"
fi

# A TLS 1.2-only client: the handshake fails, the server exits 1.
if start_mutls_server OS "${P256[@]}" --once; then
	timeout "$T_TIMEOUT" openssl s_client -connect "127.0.0.1:$OS_port" -tls1_2 \
		</dev/null >"$T_TMP/tls12.out" 2>&1
	rc=$?
	need "s_client exited with $rc, not failure" test $rc -ne 0
	wait_exit "$OS" 5
	need "server exited with $RC, not 1" test $RC -eq 1
	need "log is not one 'failed MUTLS_E_PROTOCOL_VERSION alert_sent=protocol_version: <sentence>'" \
		one_sentence "$T_TMP/OS.err" \
		'^mutls server: 127\.0\.0\.1:[0-9]+ failed MUTLS_E_PROTOCOL_VERSION alert_sent=protocol_version: .*TLS 1\.3'
	need "s_client did not get the protocol_version alert" \
		has "$T_TMP/tls12.out" 'alert protocol version'
	verdict serve.once_failed_tls12 "$T_TMP/OS.err" "$T_TMP/tls12.out"
else
	fail serve.once_failed_tls12 "mutls server did not start"
fi

# While the one connection is open, the next client is refused.
if start_mutls_server OS "${P256[@]}" --once; then
	held_client H1 "first\n" "127.0.0.1:$OS_port" "${TRUST[@]}" --quiet
	need "the first client got no echo" wait_line "$T_TMP/H1.out" '^first$' 5
	mutls_client second "" "127.0.0.1:$OS_port" "${TRUST[@]}"
	need "the second client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "the second client did not say 'Connection refused'" \
		one_sentence "$T_TMP/second.err" \
		"^mutls client: cannot connect to 127\\.0\\.0\\.1:$OS_port: Connection refused"
	release H1
	wait_exit "$H1" 5
	need "the first client exited with $RC" test $RC -eq 0
	wait_exit "$OS" 5
	need "server exited with $RC, not 0" test $RC -eq 0
	verdict serve.once_refuses_the_next "$T_TMP/second.err" "$T_TMP/OS.err"
else
	fail serve.once_refuses_the_next "mutls server did not start"
fi

# ---- ALPN ------------------------------------------------------------------------------

if start_mutls_server AS "${P256[@]}" --alpn h2,http/1.1; then
	mutls_client alpn "" "127.0.0.1:$AS_port" "${TRUST[@]}" --alpn http/1.1
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "client did not report alpn=http/1.1" reported alpn '.*, alpn=http/1\.1, hrr=no'
	need "server did not log alpn=http/1.1" logged AS 1 ' ok TLSv1\.3 .* alpn=http/1\.1 '
	verdict serve.alpn_both_sides "$T_TMP/alpn.err" "$T_TMP/AS.err"

	# The server's order decides between two protocols both sides have.
	mutls_client alpn2 "" "127.0.0.1:$AS_port" "${TRUST[@]}" --alpn http/1.1,h2
	need "client did not report alpn=h2" reported alpn2 '.*, alpn=h2, hrr=no'
	need "server did not log alpn=h2" logged AS 2 ' ok TLSv1\.3 .* alpn=h2 '
	verdict serve.alpn_server_order "$T_TMP/alpn2.err" "$T_TMP/AS.err"

	mutls_client noalpn "" "127.0.0.1:$AS_port" "${TRUST[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "client did not report alpn=-" reported noalpn '.*, alpn=-, hrr=no'
	need "server did not log alpn=-" logged AS 3 ' ok TLSv1\.3 .* alpn=- '
	verdict serve.alpn_client_offers_none "$T_TMP/noalpn.err" "$T_TMP/AS.err"

	mutls_client alpnbad "" "127.0.0.1:$AS_port" "${TRUST[@]}" --alpn spdy/3
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "client did not say 'alert received: no_application_protocol'" \
		has "$T_TMP/alpnbad.err" '^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: no_application_protocol\): .+'
	need "server did not log 'failed MUTLS_E_NO_APPLICATION_PROTOCOL alert_sent=no_application_protocol'" \
		logged AS 4 ' failed MUTLS_E_NO_APPLICATION_PROTOCOL alert_sent=no_application_protocol: .+'
	verdict serve.alpn_mismatch "$T_TMP/alpnbad.err" "$T_TMP/AS.err"
	stop_bg "$AS"
else
	fail serve.alpn_both_sides "mutls server did not start"
fi

# ---- cipher suites and groups ------------------------------------------------------

# choice NAME SERVER_ARGS -- CLIENT_ARGS -- REPORT_REGEX LOG_REGEX
choice() {
	local name=$1 sargs=() cargs=()
	shift
	while [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	while [ "$1" != -- ]; do
		cargs+=("$1")
		shift
	done
	shift
	if ! start_mutls_server CS "${P256[@]}" "${sargs[@]}"; then
		fail "serve.$name" "mutls server did not start"
		return
	fi
	mutls_client "$name" "" "127.0.0.1:$CS_port" "${TRUST[@]}" "${cargs[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "client did not report ($1)" reported "$name" "$1"
	need "server log does not match /$2/" logged CS 1 "$2"
	verdict "serve.$name" "$T_TMP/$name.err" "$T_TMP/CS.err"
	stop_bg "$CS"
}

choice client_ciphers -- --ciphers TLS_CHACHA20_POLY1305_SHA256 -- \
	'TLSv1\.3, TLS_CHACHA20_POLY1305_SHA256, x25519, .*' ' ok TLSv1\.3 TLS_CHACHA20_POLY1305_SHA256 x25519 '
# The server picks by its own order, not the client's.
choice server_cipher_order -- --ciphers TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256 -- \
	'TLSv1\.3, TLS_AES_128_GCM_SHA256, .*' ' ok TLSv1\.3 TLS_AES_128_GCM_SHA256 '
choice server_ciphers --ciphers TLS_AES_256_GCM_SHA384 -- -- \
	'TLSv1\.3, TLS_AES_256_GCM_SHA384, .*' ' ok TLSv1\.3 TLS_AES_256_GCM_SHA384 '
choice client_groups -- --groups secp384r1 -- \
	'TLSv1\.3, [A-Z0-9_]+, secp384r1, .*, hrr=no' ' ok TLSv1\.3 [A-Z0-9_]+ secp384r1 .* hrr=no '
# The client's key share is for x25519, which the server does not allow.
choice groups_hello_retry --groups secp256r1 -- --groups x25519:secp256r1 -- \
	'TLSv1\.3, [A-Z0-9_]+, secp256r1, .*, hrr=yes' ' ok TLSv1\.3 [A-Z0-9_]+ secp256r1 .* hrr=yes '

# ---- key log ----------------------------------------------------------------------------

labels="CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET
	CLIENT_TRAFFIC_SECRET_0 SERVER_TRAFFIC_SECRET_0"

# keylog_ok FILE HEX N: FILE holds N connections' lines: each of $labels N
# times, every line "LABEL <64 hex> <HEX hex>", and N distinct client randoms,
# each on all of that connection's lines.
keylog_ok() {
	local f=$1 hex=$2 n=$3 l
	[ -s "$f" ] || return 1
	grep -Ev "^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{$hex}\$" "$f" >"$f.bad"
	[ ! -s "$f.bad" ] || return 1
	for l in $labels; do
		[ "$(grep -c "^$l " "$f")" -eq "$n" ] || return 1
	done
	# Per client random: one line of each label.
	[ "$(cut -d' ' -f2 "$f" | sort -u | wc -l)" -eq "$n" ] || return 1
	for r in $(cut -d' ' -f2 "$f" | sort -u); do
		for l in $labels; do
			[ "$(grep -c "^$l $r " "$f")" -eq 1 ] || return 1
		done
	done
}

# same_lines A B: the same set of lines (OpenSSL adds a comment line).
same_lines() { cmp -s <(grep -v '^#' "$1" | sort) <(grep -v '^#' "$2" | sort); }

if start_mutls_server KS "${P256[@]}" --keylog "$T_TMP/server.keys"; then
	mutls_client kl1 "" "127.0.0.1:$KS_port" "${TRUST[@]}" --keylog "$T_TMP/client.keys"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	mutls_client kl2 "" "127.0.0.1:$KS_port" "${TRUST[@]}" --keylog "$T_TMP/client.keys"
	need "second client exited with $MC_RC" test $MC_RC -eq 0
	wait_count "$T_TMP/KS.err" ' ok ' 2 5
	need "client key log: not 2 connections of well-formed lines" keylog_ok "$T_TMP/client.keys" 64 2
	need "server key log: not 2 connections of well-formed lines" keylog_ok "$T_TMP/server.keys" 64 2
	need "client and server logged different secrets" same_lines "$T_TMP/client.keys" "$T_TMP/server.keys"
	verdict serve.keylog_mutls_both_sides "$T_TMP/client.keys" "$T_TMP/server.keys"

	# OpenSSL knows the client random it sent and the secrets it derived.
	: >"$T_TMP/server.keys"
	s_client_echo "$T_TMP/osc.out" echo-keylog -connect "127.0.0.1:$KS_port" -tls1_3 \
		-CAfile "$P/ca.pem" -keylogfile "$T_TMP/openssl-client.keys"
	need "openssl s_client got no echo" has "$T_TMP/osc.out" '^echo-keylog$'
	wait_count "$T_TMP/KS.err" ' ok ' 3 5
	need "server key log: not 1 connection of well-formed lines" keylog_ok "$T_TMP/server.keys" 64 1
	need "server key log differs from openssl s_client's" \
		same_lines "$T_TMP/server.keys" "$T_TMP/openssl-client.keys"
	verdict serve.keylog_server_vs_openssl "$T_TMP/server.keys" "$T_TMP/openssl-client.keys" "$T_TMP/osc.out"
	stop_bg "$KS"
else
	fail serve.keylog_mutls_both_sides "mutls server did not start"
fi

# The client against openssl s_server, with a SHA-384 suite: 48-byte secrets.
if start_openssl_server OSS -tls1_3 -www -naccept 1 "${P256[@]}" \
	-keylogfile "$T_TMP/openssl-server.keys"; then
	mutls_client kl3 "$get" "127.0.0.1:$OSS_port" "${TRUST[@]}" \
		--ciphers TLS_AES_256_GCM_SHA384 --keylog "$T_TMP/client384.keys"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	wait_exit "$OSS" 5
	need "client key log: not 1 connection of lines with 96-hex secrets" \
		keylog_ok "$T_TMP/client384.keys" 96 1
	need "client key log differs from openssl s_server's" \
		same_lines "$T_TMP/client384.keys" "$T_TMP/openssl-server.keys"
	verdict serve.keylog_client_vs_openssl "$T_TMP/client384.keys" "$T_TMP/openssl-server.keys"
else
	fail serve.keylog_client_vs_openssl "openssl s_server did not start"
fi

finish
