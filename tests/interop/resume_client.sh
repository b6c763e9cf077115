#!/usr/bin/env bash
# tests/interop/resume_client.sh - mTLS over time (issue 4), our client
# against real servers:
#   1. Resumption with a client certificate: mutls client --sess-out, then
#      --sess-in, against openssl s_server -Verify 1 (the page says "Reused"
#      and counts a cache hit, and still names our certificate) and
#      gnutls-serv (it logs "This is a resumed session"); a ticket from
#      another server is declined and a full handshake follows.
#   2. Confirmation: --confirm against s_server -Verify 1 reports a refusal
#      (alert and sentence) as a failed handshake, before any data, exit 1;
#      with a good certificate, "server confirmed acceptance"; against a
#      server that sends no ticket (s_server -num_tickets 0, and Go, which
#      sends none once it has asked for a certificate), "not confirmed".
#   3. Post-handshake authentication: --pha against a Python server that
#      calls verify_client_post_handshake() after the request arrived.
#   4. Revocation of the server's certificate (--crl) against s_server:
#      revoked, no CRL for its issuer, a CRL past its nextUpdate, each with
#      and without --crl-soft-fail.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail resume_client.make_certs "could not make the test certificates"
	finish
}
get=$'GET / HTTP/1.0\r\n\r\n'
me=(--cert "$P/client.pem" --key "$P/client.key")
srv=(-cert "$P/server-p256.pem" -key "$P/server-p256.key")
# s_server asking for a client certificate from ca.pem; it accepts a bad one
# unless -verify_return_error.
mtls_srv=("${srv[@]}" -CAfile "$P/ca.pem" -Verify 1 -verify_return_error)
note_none='the server asked for a client certificate and none is configured; give one with mutls client --cert --key'
note_excluded='no client certificate was sent: the server accepts client certificates issued by CN=mutls test CA; ours is issued by CN=mutls other CA'

# client NAME PORT ARGS...: one GET from our client to 127.0.0.1:PORT.
client() {
	local name=$1 port=$2
	shift 2
	mutls_client "$name" "$get" "127.0.0.1:$port" --servername localhost --cacert "$P/ca.pem" "$@"
}

# s_server_saw RE: the s_server started as OS (with -naccept 1) has ended and
# said RE (on stdout or stderr).
s_server_saw() {
	local i=0
	while alive "$OS" && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	cat "$T_TMP/OS.out" "$T_TMP/OS.err" >"$T_TMP/OS.all"
	has "$T_TMP/OS.all" "$1"
}

# ---- 1. resumption ----------------------------------------------------------
S1=$T_TMP/s1.sess
if start_openssl_server OS -tls1_3 -www "${mtls_srv[@]}"; then
	port=$OS_port
	client full "$port" "${me[@]}" --sess-out "$S1"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'connected to' with a signature scheme" \
		has "$T_TMP/full.err" "^mutls client: connected to .*\(TLSv1\.3, TLS_[A-Z0-9_]+, x25519, ecdsa_secp256r1_sha256, alpn=-, hrr=no\)\$"
	need "no 'client certificate sent'" \
		has "$T_TMP/full.err" "^mutls client: client certificate sent: subject=CN=mutls test client "
	need "no 'session saved to $S1'" has "$T_TMP/full.err" "^mutls client: session saved to $S1\$"
	need "session file missing" test -s "$S1"
	need "session file is not mode 600" test "$(stat -c %a "$S1" 2>/dev/null)" = 600
	need "s_server page does not say New" has "$T_TMP/full.out" "^New, TLSv1\.3, "
	need "s_server page does not name our certificate" has "$T_TMP/full.out" "Subject: ?CN ?= ?mutls test client"
	verdict resume_client.openssl.full "$T_TMP/full.err" "$T_TMP/full.out"

	client resumed "$port" "${me[@]}" --sess-in "$S1" --sess-out "$T_TMP/s2.sess"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'connected to ... (..., -, alpn=-, hrr=no, resumed=yes)'" \
		has "$T_TMP/resumed.err" "^mutls client: connected to .*\(TLSv1\.3, TLS_[A-Z0-9_]+, x25519, -, alpn=-, hrr=no, resumed=yes\)\$"
	need "no 'client certificate not sent again'" \
		has "$T_TMP/resumed.err" "^mutls client: client certificate not sent again: the connection resumed a session, and the server keeps the identity we proved in the first handshake\$"
	need "s_server page does not say Reused" has "$T_TMP/resumed.out" "^Reused, TLSv1\.3, "
	need "s_server counts no session cache hit" has "$T_TMP/resumed.out" "^ +1 session cache hits"
	need "s_server page does not name our certificate (kept in the session)" \
		has "$T_TMP/resumed.out" "Subject: ?CN ?= ?mutls test client"
	verdict resume_client.openssl.resumed "$T_TMP/resumed.err" "$T_TMP/resumed.out"

	# Without --cert: the resumed session carries the identity.
	client nocert "$port" --sess-in "$S1"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'resumed=yes'" has "$T_TMP/nocert.err" "^mutls client: connected to .*, resumed=yes\)\$"
	need "s_server page does not say Reused" has "$T_TMP/nocert.out" "^Reused, TLSv1\.3, "
	need "s_server does not count 2 cache hits" has "$T_TMP/nocert.out" "^ +2 session cache hits"
	need "s_server page does not name our certificate" has "$T_TMP/nocert.out" "Subject: ?CN ?= ?mutls test client"
	verdict resume_client.openssl.resumed_without_cert "$T_TMP/nocert.err" "$T_TMP/nocert.out"
	stop_bg "$OS"
else
	fail resume_client.openssl.full "openssl s_server did not start"
fi

# Another s_server has other ticket keys: the ticket is declined, a full
# handshake follows, with our certificate; without one, the refusal.
if [ -s "$S1" ] && start_openssl_server OS -tls1_3 -www "${mtls_srv[@]}"; then
	client other "$OS_port" "${me[@]}" --sess-in "$S1"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'connected to ... ecdsa_secp256r1_sha256, ..., resumed=no'" \
		has "$T_TMP/other.err" "^mutls client: connected to .*, ecdsa_secp256r1_sha256, alpn=-, hrr=no, resumed=no\)\$"
	need "no 'client certificate sent'" \
		has "$T_TMP/other.err" "^mutls client: client certificate sent: subject=CN=mutls test client "
	need "s_server page does not say New" has "$T_TMP/other.out" "^New, TLSv1\.3, "
	verdict resume_client.openssl.ticket_declined "$T_TMP/other.err" "$T_TMP/other.out"

	client other "$OS_port" --sess-in "$S1"
	need "mutls client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "no 'resumed=no'" has "$T_TMP/other.err" "^mutls client: connected to .*, resumed=no\)\$"
	need "no 'handshake failed: ... certificate_required ... (none is configured)'" \
		has "$T_TMP/other.err" "^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: certificate_required\): the peer sent the alert certificate_required: the server requires a client certificate and none was sent \($note_none\)\$"
	verdict resume_client.openssl.ticket_declined_no_cert "$T_TMP/other.err" "$T_TMP/other.out"
	stop_bg "$OS"
else
	fail resume_client.openssl.ticket_declined "no session saved, or openssl s_server did not start"
fi

# gnutls-serv cannot listen on port 0 and say where: ask the kernel for a
# free port, and try another if someone took it in between.
start_gserv() {
	local _
	for _ in 1 2 3; do
		GS_port=$(free_port)
		start_bg GS gnutls-serv -p "$GS_port" "$@"
		if wait_line "$T_TMP/GS.err" "listening on IPv4 .* port $GS_port\.\.\.done" 5 &&
			wait_port "$GS_port" 1 && alive "$GS"; then
			return 0
		fi
		stop_bg "$GS"
	done
	return 1
}
G1=$T_TMP/g1.sess
if start_gserv --http --x509certfile "$P/server-p256.pem" --x509keyfile "$P/server-p256.key" \
	--x509cafile "$P/ca.pem" --require-client-cert --verify-client-cert \
	--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3'; then
	client gfull "$GS_port" "${me[@]}" --sess-out "$G1"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'client certificate sent'" \
		has "$T_TMP/gfull.err" "^mutls client: client certificate sent: subject=CN=mutls test client "
	need "no 'session saved to $G1'" has "$T_TMP/gfull.err" "^mutls client: session saved to $G1\$"
	need "gnutls-serv page does not name our certificate" has "$T_TMP/gfull.out" "^\s*Subject: CN=mutls test client\$"
	verdict resume_client.gnutls.full "$T_TMP/gfull.err" "$T_TMP/gfull.out" "$T_TMP/GS.out"

	client gres "$GS_port" "${me[@]}" --sess-in "$G1"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'connected to ... (..., -, alpn=-, hrr=no, resumed=yes)'" \
		has "$T_TMP/gres.err" "^mutls client: connected to .*\(TLSv1\.3, TLS_[A-Z0-9_]+, x25519, -, alpn=-, hrr=no, resumed=yes\)\$"
	need "no 'client certificate not sent again'" \
		has "$T_TMP/gres.err" "^mutls client: client certificate not sent again: "
	need "gnutls-serv did not log 'This is a resumed session'" \
		wait_line "$T_TMP/GS.out" "^\*\*\* This is a resumed session" 5
	need "gnutls-serv page does not name our certificate" has "$T_TMP/gres.out" "^\s*Subject: CN=mutls test client\$"
	# The page shows the session ID: the resumed session is the first one.
	id1=$(grep -m1 -o 'Session ID: *<i>[0-9A-F]*' "$T_TMP/gfull.out")
	id2=$(grep -m1 -o 'Session ID: *<i>[0-9A-F]*' "$T_TMP/gres.out")
	need "session ID changed ('$id1' then '$id2')" test -n "$id1" -a "$id1" = "$id2"
	verdict resume_client.gnutls.resumed "$T_TMP/gres.err" "$T_TMP/gres.out" "$T_TMP/GS.out"
	stop_bg "$GS"
else
	fail resume_client.gnutls.full "gnutls-serv did not start"
	dump "$T_TMP/GS.err"
fi

# ---- 2. confirmation ----------------------------------------------------------
# refused NAME ALERT NOTE CLIENT_ARGS...: with --confirm, a refusal is only
# the "handshake failed" line: no "connected to", nothing on stdout.
refused() {
	local name=$1 alert=$2 note=$3 why
	shift 3
	case $alert in
	certificate_required) why="the server requires a client certificate and none was sent" ;;
	certificate_expired) why="the peer says our certificate has expired or is not yet valid; renew it or check the clocks" ;;
	esac
	if ! start_openssl_server OS -tls1_3 -www -naccept 1 "${mtls_srv[@]}"; then
		fail "$name" "openssl s_server did not start"
		return
	fi
	client c "$OS_port" --confirm "$@"
	need "mutls client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "no 'handshake failed: MUTLS_E_PEER_ALERT (alert received: $alert): ...'" \
		has "$T_TMP/c.err" "^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: $alert\): the peer sent the alert $alert: $why${note:+ \($note\)}\$"
	need "'connected to' printed before the refusal" hasnt "$T_TMP/c.err" "connected to"
	need "more than the one line" test "$(wc -l <"$T_TMP/c.err")" -eq 1
	need "something on stdout" test ! -s "$T_TMP/c.out"
	need "s_server did not refuse" s_server_saw "tls_process_client_certificate:"
	verdict "$name" "$T_TMP/c.err" "$T_TMP/OS.all"
	stop_bg "$OS"
}
refused resume_client.confirm.none certificate_required "$note_none"
refused resume_client.confirm.wrong_ca certificate_required "$note_excluded" \
	--cert "$P/client-other.pem" --key "$P/client-other.key"
refused resume_client.confirm.expired certificate_expired "" \
	--cert "$P/client-expired.pem" --key "$P/client-expired.key"

if start_openssl_server OS -tls1_3 -www -naccept 1 "${mtls_srv[@]}"; then
	client c "$OS_port" --confirm "${me[@]}"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'client certificate sent' then 'server confirmed acceptance'" \
		grep -A1 -q "^mutls client: client certificate sent: subject=CN=mutls test client " "$T_TMP/c.err"
	need "no 'server confirmed acceptance'" has "$T_TMP/c.err" "^mutls client: server confirmed acceptance\$"
	need "no page naming our certificate" has "$T_TMP/c.out" "Subject: ?CN ?= ?mutls test client"
	verdict resume_client.confirm.accepted "$T_TMP/c.err" "$T_TMP/c.out"
	stop_bg "$OS"
else
	fail resume_client.confirm.accepted "openssl s_server did not start"
fi

# A server that sends no ticket: the bounded wait, then "not confirmed", and
# the request goes on.
not_confirmed='^mutls client: not confirmed: the server sent nothing within 300 ms after the handshake, so whether it accepted our certificate is unknown until it answers'
if start_openssl_server OS -tls1_3 -www -naccept 1 -num_tickets 0 "${mtls_srv[@]}"; then
	client c "$OS_port" --confirm=300 "${me[@]}"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'not confirmed: ... 300 ms ...'" has "$T_TMP/c.err" "$not_confirmed"
	need "no page" has "$T_TMP/c.out" "^HTTP/1\.0 200 ok"
	verdict resume_client.confirm.no_tickets "$T_TMP/c.err" "$T_TMP/c.out"
	stop_bg "$OS"
else
	fail resume_client.confirm.no_tickets "openssl s_server did not start"
fi
if build_gopeer && "$GOPEER" server -h 2>&1 | grep -q -- '-clientauth'; then
	start_bg GP "$GOPEER" server -listen 127.0.0.1:0 -http "${srv[@]}" -clientca "$P/ca.pem" \
		-clientauth require
	if wait_line "$T_TMP/GP.out" '^listening on ' 5; then
		line=$(grep -m1 '^listening on ' "$T_TMP/GP.out")
		client c "${line##*:}" --confirm=300 "${me[@]}"
		need "mutls client exited with $MC_RC" test $MC_RC -eq 0
		need "no 'not confirmed: ... 300 ms ...'" has "$T_TMP/c.err" "$not_confirmed"
		need "no page naming our certificate" has "$T_TMP/c.out" "^client=CN=mutls test client "
		verdict resume_client.confirm.go_no_tickets "$T_TMP/c.err" "$T_TMP/c.out" "$T_TMP/GP.err"
	else
		fail resume_client.confirm.go_no_tickets "gopeer server did not start"
	fi
	stop_bg "$GP"
else
	skip resume_client.confirm.go_no_tickets "gopeer cannot be built or has no -clientauth"
fi

# ---- 3. post-handshake authentication ----------------------------------------
# pha_server MODE: tests/interop/mtls_pyserver.py --pha (asks once the request
# arrived); sets PS and PS_port.
pha_server() {
	local line
	start_bg PS "$PYTHON" "$HERE/mtls_pyserver.py" "$P/server-p256.pem" "$P/server-p256.key" \
		"$P/ca.pem" "$1" --pha
	wait_line "$T_TMP/PS.out" '^listening on ' 5 || return 1
	line=$(grep -m1 '^listening on ' "$T_TMP/PS.out")
	PS_port=${line##*:}
}
if pha_server optional; then
	client pha "$PS_port" --pha "${me[@]}"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'the server did not ask for a client certificate' (in the handshake)" \
		has "$T_TMP/pha.err" "^mutls client: the server did not ask for a client certificate; ours was not sent\$"
	need "no 'client certificate sent after the handshake, at the server's request'" \
		has "$T_TMP/pha.err" "^mutls client: client certificate sent after the handshake, at the server's request: subject=CN=mutls test client issuer=CN=mutls test CA "
	need "python did not get our certificate after the handshake" \
		wait_line "$T_TMP/PS.err" "^pyserver: .* pha client_cert=CN=mutls test client\$" 5
	need "the page does not name our certificate" has "$T_TMP/pha.out" "^pyserver: client_cert=CN=mutls test client\$"
	verdict resume_client.pha.python "$T_TMP/pha.err" "$T_TMP/pha.out" "$T_TMP/PS.err"

	# Without --pha we did not offer post_handshake_auth: Python cannot ask
	# (verify_client_post_handshake raises) and serves the page without it.
	client nopha "$PS_port" "${me[@]}"
	need "mutls client exited with $MC_RC" test $MC_RC -eq 0
	need "a certificate was sent" hasnt "$T_TMP/nopha.err" "client certificate sent"
	need "python did not say 'pha refused: ... EXTENSION_NOT_RECEIVED'" \
		wait_line "$T_TMP/PS.err" "^pyserver: .* pha refused: .*EXTENSION_NOT_RECEIVED" 5
	need "the page does not say client_cert=-" has "$T_TMP/nopha.out" "^pyserver: client_cert=-\$"
	verdict resume_client.pha.python_not_offered "$T_TMP/nopha.err" "$T_TMP/PS.err"
	stop_bg "$PS"
else
	fail resume_client.pha.python "python server did not start"
fi

# Refusals after the handshake: "connection failed", the alert and its
# sentence, exit 1; the sentence must not carry the handshake's notice
# ("the server did not ask ...") once a certificate went after it.
if pha_server required; then
	client phanone "$PS_port" --pha
	need "mutls client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "no notice '$note_none'" has "$T_TMP/phanone.err" "^mutls client: $note_none\$"
	need "no 'connection failed: MUTLS_E_PEER_ALERT (alert received: certificate_required): ... ($note_none)'" \
		has "$T_TMP/phanone.err" "^mutls client: connection failed: MUTLS_E_PEER_ALERT \(alert received: certificate_required\): the peer sent the alert certificate_required: the server requires a client certificate and none was sent \($note_none\)\$"
	need "python did not say PEER_DID_NOT_RETURN_A_CERTIFICATE" \
		wait_line "$T_TMP/PS.err" "after handshake: .*PEER_DID_NOT_RETURN_A_CERTIFICATE" 5
	verdict resume_client.pha.python_required_none "$T_TMP/phanone.err" "$T_TMP/PS.err"

	client phaexp "$PS_port" --pha --cert "$P/client-expired.pem" --key "$P/client-expired.key"
	need "mutls client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "no 'client certificate sent after the handshake ... CN=expired client'" \
		has "$T_TMP/phaexp.err" "^mutls client: client certificate sent after the handshake, at the server's request: subject=CN=expired client "
	need "no 'connection failed: MUTLS_E_PEER_ALERT (alert received: certificate_expired): ...'" \
		has "$T_TMP/phaexp.err" "^mutls client: connection failed: MUTLS_E_PEER_ALERT \(alert received: certificate_expired\): the peer sent the alert certificate_expired: the peer says our certificate has expired or is not yet valid; renew it or check the clocks"
	need "the failure says 'ours was not sent' about the certificate that was sent" \
		hasnt "$T_TMP/phaexp.err" "connection failed: .*the server did not ask for a client certificate; ours was not sent"
	need "python did not say 'certificate has expired'" \
		wait_line "$T_TMP/PS.err" "after handshake: .*certificate verify failed: certificate has expired" 5
	verdict resume_client.pha.python_required_expired "$T_TMP/phaexp.err" "$T_TMP/PS.err"
	stop_bg "$PS"
else
	fail resume_client.pha.python_required_none "python server did not start"
fi

# ---- 4. revocation of the server's certificate ------------------------------
# CRLs made with `openssl ca` (x509.cnf's ca_expired section, a database per
# CA): ca-revoked.crl revokes server-p256.pem (serial 0x0A); ca-clean.crl
# revokes nothing; ca-stale.crl is past its nextUpdate (February 2020);
# other.crl is from the other CA only.
mk_crls() {
	(
		set -e
		cd "$T_TMP"
		export OPENSSL_CONF=$P/x509.cnf SAN=DNS:localhost
		ca() { openssl ca -batch -config "$P/x509.cnf" -name ca_expired "$@" 2>/dev/null; }
		for db in revoked clean other; do
			mkdir -p "db-$db"
			: >"db-$db/index.txt"
			echo 01 >"db-$db/serial"
		done
		CADB=$PWD/db-revoked ca -cert "$P/ca.pem" -keyfile "$P/ca.key" -revoke "$P/server-p256.pem"
		CADB=$PWD/db-revoked ca -cert "$P/ca.pem" -keyfile "$P/ca.key" -gencrl -crldays 7 \
			-out ca-revoked.crl
		CADB=$PWD/db-clean ca -cert "$P/ca.pem" -keyfile "$P/ca.key" -gencrl -crldays 7 \
			-out ca-clean.crl
		CADB=$PWD/db-clean ca -cert "$P/ca.pem" -keyfile "$P/ca.key" -gencrl \
			-crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z -out ca-stale.crl
		CADB=$PWD/db-other ca -cert "$P/other-ca.pem" -keyfile "$P/other-ca.key" -gencrl \
			-crldays 7 -out other.crl
	) && [ -s "$T_TMP/ca-revoked.crl" ] && [ -s "$T_TMP/other.crl" ] && [ -s "$T_TMP/ca-stale.crl" ]
}

# crl_case NAME EXPECT ARGS...: s_server (server-p256, no client auth) and our
# client with ARGS. EXPECT is ok, or "CODE ALERT SENTENCE_RE": exit 1 with
# "handshake failed: CODE (alert sent: ALERT): SENTENCE", and s_server saw it.
crl_case() {
	local name=$1 expect=$2 code alert sentence
	shift 2
	if ! start_openssl_server OS -tls1_3 -www -naccept 1 "${srv[@]}"; then
		fail "$name" "openssl s_server did not start"
		return
	fi
	client crl "$OS_port" "$@"
	if [ "$expect" = ok ]; then
		need "mutls client exited with $MC_RC" test $MC_RC -eq 0
		need "no 'server certificate verified'" \
			has "$T_TMP/crl.err" "^mutls client: server certificate verified: subject=CN=localhost "
		need "no page" has "$T_TMP/crl.out" "^HTTP/1\.0 200 ok"
	else
		read -r code alert sentence <<<"$expect"
		need "mutls client exited with $MC_RC, not 1" test $MC_RC -eq 1
		need "no 'handshake failed: $code (alert sent: $alert): $sentence'" \
			has "$T_TMP/crl.err" "^mutls client: handshake failed: $code \(alert sent: $alert\): $sentence"
		need "a page on stdout" test ! -s "$T_TMP/crl.out"
		need "s_server did not see 'alert ${alert//_/ }'" s_server_saw "alert ${alert//_/ }"
	fi
	verdict "$name" "$T_TMP/crl.err" "$T_TMP/crl.out" "$T_TMP/OS.err"
	stop_bg "$OS"
}

if mk_crls; then
	C=$T_TMP
	revoked="MUTLS_E_CERT_REVOKED certificate_revoked the certificate for CN=localhost \(serial 0x0A\) was revoked on [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC"
	missing="MUTLS_E_CRL_MISSING certificate_unknown no CRL from CN=mutls test CA was loaded, so the revocation of CN=localhost cannot be checked"
	stale="MUTLS_E_CRL_STALE certificate_unknown the CRL from CN=mutls test CA is stale: its nextUpdate was 2020-02-01 00:00:00 UTC"
	crl_case resume_client.crl.revoked "$revoked" --crl "$C/ca-revoked.crl"
	crl_case resume_client.crl.revoked_soft_fail "$revoked" --crl "$C/ca-revoked.crl" --crl-soft-fail
	crl_case resume_client.crl.revoked_among_others "$revoked" --crl "$C/other.crl" --crl "$C/ca-revoked.crl"
	crl_case resume_client.crl.not_revoked ok --crl "$C/ca-clean.crl"
	crl_case resume_client.crl.missing "$missing" --crl "$C/other.crl"
	crl_case resume_client.crl.missing_soft_fail ok --crl "$C/other.crl" --crl-soft-fail
	crl_case resume_client.crl.stale "$stale" --crl "$C/ca-stale.crl"
	crl_case resume_client.crl.stale_soft_fail ok --crl "$C/ca-stale.crl" --crl-soft-fail
else
	fail resume_client.crl "could not make the CRLs with openssl ca"
fi

finish
