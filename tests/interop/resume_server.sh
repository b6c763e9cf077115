#!/usr/bin/env bash
# tests/interop/resume_server.sh - resumption and post-handshake auth, real
# clients -> mutls server, with client certificates (mutual TLS):
#   1. openssl s_client -sess_out then -sess_in ("Reused, TLSv1.3"), and
#      gnutls-cli --resume ("This is a resumed session"), against
#      --client-auth require; the server logs resumed=yes and still names the
#      client (the identity comes from the ticket).
#   2. Tickets that must not resume (a full handshake follows, and judges the
#      client afresh): one sealed by a server that was restarted (its keys
#      were random); one whose --ticket-keys key was rotated out (while the
#      key is still listed after the new one, it resumes); a client revoked
#      (--crl), out of policy (--allow-uri) or expired since it got its ticket.
#   3. --ticket-keys FILE shared by two servers: one resumes the other's.
#   4. Post-handshake auth (--http --pha-path /secret, --client-auth none):
#      openssl s_client -enable_pha and Python's post_handshake_auth get the
#      page naming the certificate they sent when asked; without the offer,
#      403 and the library's sentence; an expired certificate sent on request
#      ends the connection with certificate_expired.
# shellcheck source=tests/lib.sh
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
. "$(dirname "$0")/../lib.sh"
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail resume_server.make_certs "could not make the test certificates"
	finish
}
PYCLIENT=$(cd "$(dirname "$0")" && pwd)/mtls_pyclient.py

srv=(--cert "$P/server-p256.pem" --key "$P/server-p256.key" --client-ca "$P/ca.pem")
me='spiffe://mutls\.test/client'
billing='spiffe://mutls\.test/billing/api'

# ---- helpers ----------------------------------------------------------------
# Each check reads the server's next per-connection log line: mark VAR before
# the client runs, next_logged VAR [K] REGEX after (the Kth line since the
# mark, 1 by default; waits up to 5 s, the server logs when a connection ends).
declare -A seen=()
mark() { seen[$1]=$(grep -c '^mutls server: ' "$T_TMP/$1.err" 2>/dev/null); }
next_logged() {
	local var=$1 k=1
	[ $# -eq 3 ] && k=$2 && shift
	logged "$var" $((${seen[$var]:-0} + k)) "$2"
}

# sc OUT TOKEN PORT ID ARGS...: openssl s_client to PORT with the identity ID
# (client, client-billing, ...; "none" for none), sending TOKEN and waiting
# (5 s at most) for it to come back or for an error. Not -brief: the
# "New,"/"Reused," line is the point. Its session dump may precede the echo
# on the same line, so the echo is matched at the end of a line.
sc() {
	local out=$1 tok=$2 port=$3 id=$4 a=()
	shift 4
	[ "$id" = none ] || a=(-cert "$P/$id.pem" -key "$P/$id.key")
	: >"$out"
	{
		printf '%s\n' "$tok"
		wait_line "$out" "$tok\$|:error:|^DONE\$|^closed\$" 5
	} | timeout "$T_TIMEOUT" openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
		-servername localhost -CAfile "$P/ca.pem" -verify_return_error "${a[@]}" "$@" \
		>"$out" 2>&1
}

# sc_resumed OUT TOKEN: s_client resumed and got the echo.
sc_resumed() {
	need "s_client did not print 'Reused, TLSv1.3'" has "$1" '^Reused, TLSv1\.3, '
	need "no echo of $2" has "$1" "$2\$"
}
# sc_full OUT: s_client made a full handshake (the ticket was not used).
sc_full() {
	need "s_client did not print 'New, TLSv1.3'" has "$1" '^New, TLSv1\.3, '
	need "s_client printed 'Reused'" hasnt "$1" '^Reused'
}

# A CRL from the test CA revoking client.pem, made with `openssl ca` and a
# throwaway database (as in tests/cli/mtls.sh).
crl_dir=$T_TMP/crl
mkdir -p "$crl_dir/db"
cat >"$crl_dir/ca.cnf" <<'EOF'
[ca]
default_ca = crl
[crl]
database = $ENV::CRL_DB/index.txt
default_md = sha256
default_crl_days = 1
EOF
: >"$crl_dir/db/index.txt"
crl=
if CRL_DB=$crl_dir/db openssl ca -batch -config "$crl_dir/ca.cnf" -cert "$P/ca.pem" \
	-keyfile "$P/ca.key" -revoke "$P/client.pem" >"$crl_dir/log" 2>&1 &&
	CRL_DB=$crl_dir/db openssl ca -batch -config "$crl_dir/ca.cnf" -cert "$P/ca.pem" \
		-keyfile "$P/ca.key" -gencrl -out "$crl_dir/ca.crl" >>"$crl_dir/log" 2>&1; then
	crl=$crl_dir/ca.crl
else
	fail resume_server.crl "openssl ca could not make the CRL"
	dump "$crl_dir/log"
fi

# Ticket keys: A, then B (the new key) with A still listed, then B alone.
openssl rand -hex 48 >"$T_TMP/keys.A"
openssl rand -hex 48 >"$T_TMP/keys.B"
cat "$T_TMP/keys.B" "$T_TMP/keys.A" >"$T_TMP/keys.BA"
chmod 600 "$T_TMP"/keys.*

# ---- 1. resumption with a client certificate ----------------------------------
sess=$T_TMP/s1.sess
if start_mutls_server S1 "${srv[@]}" --client-auth require --echo; then
	out=$T_TMP/sc.out
	mark S1
	sc "$out" echo-first "$S1_port" client -sess_out "$sess"
	need "s_client exited with $?" test $? -eq 0
	sc_full "$out"
	need "no echo" has "$out" 'echo-first$'
	need "no session saved" test -s "$sess"
	need "server log is not 'ok ... client=$me resumed=no'" \
		next_logged S1 " ok TLSv1\.3 .* client=$me resumed=no "
	verdict resume_server.openssl.full "$out" "$T_TMP/S1.err"

	mark S1
	sc "$out" echo-again "$S1_port" client -sess_in "$sess"
	need "s_client exited with $?" test $? -eq 0
	sc_resumed "$out" echo-again
	need "server log is not 'ok ... client=$me resumed=yes'" \
		next_logged S1 " ok TLSv1\.3 .* client=$me resumed=yes "
	verdict resume_server.openssl.resumed "$out" "$T_TMP/S1.err"

	# gnutls-cli --resume: a full handshake, then a second connection with
	# the ticket; the echo runs on the second.
	out=$T_TMP/gc.out
	mark S1
	echo_client "$out" echo-gnutls gnutls-cli -p "$S1_port" --x509cafile "$P/ca.pem" \
		--verify-hostname localhost --sni-hostname localhost \
		--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' \
		--x509certfile "$P/client.pem" --x509keyfile "$P/client.key" --resume 127.0.0.1
	need "gnutls-cli exited with $?" test $? -eq 0
	need "no '*** This is a resumed session'" has "$out" '^\*\*\* This is a resumed session'
	need "no echo" has "$out" '^echo-gnutls$'
	need "server log line 1 is not 'ok ... client=$me resumed=no'" \
		next_logged S1 1 " ok TLSv1\.3 .* client=$me resumed=no "
	need "server log line 2 is not 'ok ... client=$me resumed=yes'" \
		next_logged S1 2 " ok TLSv1\.3 .* client=$me resumed=yes "
	verdict resume_server.gnutls.resumed "$out" "$T_TMP/S1.err"
	stop_bg "$S1"

	# Restarted: new random ticket keys, so the old ticket cannot be opened
	# and a full handshake follows (the certificate is sent again).
	if start_mutls_server S1 "${srv[@]}" --client-auth require --echo; then
		out=$T_TMP/sc.out
		mark S1
		sc "$out" echo-restarted "$S1_port" client -sess_in "$sess"
		need "s_client exited with $?" test $? -eq 0
		sc_full "$out"
		need "no echo" has "$out" 'echo-restarted$'
		need "server log is not 'ok ... client=$me resumed=no'" \
			next_logged S1 " ok TLSv1\.3 .* client=$me resumed=no "
		verdict resume_server.openssl.restarted_server_full_handshake "$out" "$T_TMP/S1.err"
		stop_bg "$S1"
	else
		fail resume_server.openssl.restarted_server_full_handshake "mutls server did not start"
	fi
else
	fail resume_server.openssl.full "mutls server did not start"
fi

# ---- 2, 3. ticket keys: shared, rotated, and identities re-checked ------------
# A client certificate that expires a few seconds from now: its ticket is
# taken at once (below) and offered at the end of the script, once the
# certificate has expired.
# Made like make_certs's expired one: `openssl ca` with a throwaway database.
short_made=
short_until=$(($(date +%s) + 6))
mkdir -p "$T_TMP/cadb"
: >"$T_TMP/cadb/index.txt"
echo 30 >"$T_TMP/cadb/serial"
if (
	cd "$P" &&
		export OPENSSL_CONF=$P/x509.cnf CADB=$T_TMP/cadb SAN=URI:spiffe://mutls.test/short &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client-short.key &&
		openssl req -new -config x509.cnf -key client-short.key -subj "/CN=short client" \
			-out "$CADB/short.csr" &&
		openssl ca -batch -notext -config x509.cnf -name ca_expired -cert ca.pem -keyfile ca.key \
			-extfile x509.cnf -extensions client \
			-startdate "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" \
			-enddate "$(date -u -d "@$short_until" +%Y%m%d%H%M%SZ)" \
			-in "$CADB/short.csr" -out client-short.pem
) >"$T_TMP/cadb/log" 2>&1; then
	short_made=1
else
	fail resume_server.short_lived_cert "openssl ca could not make the short-lived certificate"
	dump "$T_TMP/cadb/log"
fi

# KA seals with key A; every ticket below comes from it.
if start_mutls_server KA "${srv[@]}" --client-auth require --echo --ticket-keys "$T_TMP/keys.A"; then
	out=$T_TMP/sc.out
	for id in client client-billing ${short_made:+client-short}; do
		mark KA
		sc "$out" "echo-ticket-$id" "$KA_port" "$id" -sess_out "$T_TMP/$id.sess"
		need "s_client exited with $?" test $? -eq 0
		need "no echo" has "$out" "echo-ticket-$id\$"
		need "no session saved" test -s "$T_TMP/$id.sess"
		need "server log is not 'ok ... resumed=no'" next_logged KA " ok TLSv1\.3 .* resumed=no "
		verdict "resume_server.ticket_keys.issued.$id" "$out" "$T_TMP/KA.err"
	done
	stop_bg "$KA"
else
	fail resume_server.ticket_keys.issued "mutls server did not start"
fi

# resume_case NAME SESSION ID SERVER_ARGS...: a fresh server with
# SERVER_ARGS; s_client offers SESSION as ID and must resume.
resume_case() {
	local name=$1 session=$2 id=$3 want=$4 out=$T_TMP/sc.out
	shift 4
	if ! start_mutls_server KB "${srv[@]}" --client-auth require --echo "$@"; then
		fail "$name" "mutls server did not start"
		return
	fi
	mark KB
	sc "$out" "echo-$name" "$KB_port" "$id" -sess_in "$session"
	need "s_client exited with $?" test $? -eq 0
	sc_resumed "$out" "echo-$name"
	need "server log is not 'ok ... client=$want resumed=yes'" \
		next_logged KB " ok TLSv1\.3 .* client=$want resumed=yes "
	verdict "$name" "$out" "$T_TMP/KB.err"
	stop_bg "$KB"
}

# refused_case NAME SESSION ID ALERT NUM CODE SENTENCE SERVER_ARGS...: the
# ticket is not used (full handshake); the client's certificate is then
# refused: s_client reads the alert ALERT (number NUM) and the server logs
# "failed CODE alert_sent=ALERT: SENTENCE".
refused_case() {
	local name=$1 session=$2 id=$3 al=$4 num=$5 code=$6 re=$7 out=$T_TMP/sc.out
	shift 7
	if ! start_mutls_server KB "${srv[@]}" --client-auth require --echo "$@"; then
		fail "$name" "mutls server did not start"
		return
	fi
	mark KB
	sc "$out" "echo-$name" "$KB_port" "$id" -sess_in "$session"
	sc_full "$out"
	need "s_client did not read the alert ${al//_/ } (number $num)" \
		has "$out" ":[a-z0-9]+ alert ${al//_/ }:.*SSL alert number $num\$"
	need "the echo came back" hasnt "$out" "echo-$name\$"
	need "server log is not 'failed $code alert_sent=$al: ${re//\\/}'" \
		next_logged KB " failed $code alert_sent=$al: $re"
	verdict "$name" "$out" "$T_TMP/KB.err"
	stop_bg "$KB"
}

resume_case resume_server.ticket_keys.shared "$T_TMP/client.sess" client "$me" \
	--ticket-keys "$T_TMP/keys.A"
# Rotation: B seals now, A still opens (the grace period of a file that
# lists both); once A is gone from the file, its tickets no longer resume.
resume_case resume_server.ticket_keys.rotated_still_listed "$T_TMP/client.sess" client "$me" \
	--ticket-keys "$T_TMP/keys.BA"
if start_mutls_server KB "${srv[@]}" --client-auth require --echo --ticket-keys "$T_TMP/keys.B"; then
	out=$T_TMP/sc.out
	mark KB
	sc "$out" echo-rotated-out "$KB_port" client -sess_in "$T_TMP/client.sess"
	need "s_client exited with $?" test $? -eq 0
	sc_full "$out"
	need "no echo" has "$out" 'echo-rotated-out$'
	need "server log is not 'ok ... client=$me resumed=no'" \
		next_logged KB " ok TLSv1\.3 .* client=$me resumed=no "
	verdict resume_server.ticket_keys.rotated_out_full_handshake "$out" "$T_TMP/KB.err"
	stop_bg "$KB"
else
	fail resume_server.ticket_keys.rotated_out_full_handshake "mutls server did not start"
fi

if [ -n "$crl" ]; then
	# client.pem was revoked after it got its ticket: no resumption, and the
	# full handshake refuses it. client-billing, not revoked, resumes.
	refused_case resume_server.revoked_does_not_resume "$T_TMP/client.sess" client \
		certificate_revoked 44 MUTLS_E_CERT_REVOKED \
		'the certificate for CN=mutls test client \(serial 0x12\) was revoked on ' \
		--ticket-keys "$T_TMP/keys.A" --crl "$crl"
	resume_case resume_server.not_revoked_resumes "$T_TMP/client-billing.sess" client-billing \
		"$billing" --ticket-keys "$T_TMP/keys.A" --crl "$crl"
fi
# The policy changed since the ticket was issued: client.pem is now out.
refused_case resume_server.out_of_policy_does_not_resume "$T_TMP/client.sess" client \
	access_denied 49 MUTLS_E_ACCESS_DENIED \
	'the peer CN=mutls test client \(URI:spiffe://mutls\.test/client\) is not allowed: it matches none of the 1 allow rule \(uri:spiffe://mutls\.test/billing/\*\)' \
	--ticket-keys "$T_TMP/keys.A" --allow-uri 'spiffe://mutls.test/billing/*'
resume_case resume_server.in_policy_resumes "$T_TMP/client-billing.sess" client-billing \
	"$billing" --ticket-keys "$T_TMP/keys.A" --allow-uri 'spiffe://mutls.test/billing/*'

# ---- 4. post-handshake auth ---------------------------------------------------
# pha_sc OUT PATH ID ARGS...: GET PATH through s_client; it keeps reading
# after its stdin ends (-ign_eof) until the server closes.
pha_sc() {
	local out=$1 path=$2 id=$3 a=()
	shift 3
	[ "$id" = none ] || a=(-cert "$P/$id.pem" -key "$P/$id.key")
	printf 'GET %s HTTP/1.0\r\n\r\n' "$path" | timeout "$T_TIMEOUT" openssl s_client \
		-connect "127.0.0.1:$PH_port" -tls1_3 -servername localhost -CAfile "$P/ca.pem" \
		-verify_return_error -ign_eof -quiet "${a[@]}" "$@" >"$out" 2>&1
}
# pha_py OUT PATH ID ARGS...: the same with Python's ssl.
pha_py() {
	local out=$1 path=$2 id=$3 a=()
	shift 3
	[ "$id" = none ] || a=(--cert "$P/$id.pem" --key "$P/$id.key")
	timeout "$T_TIMEOUT" "$PYTHON" "$PYCLIENT" 127.0.0.1 "$PH_port" "$P/ca.pem" "${a[@]}" "$@" \
		--get "$path" >"$out" 2>&1
}
forbidden='forbidden: the client did not offer post_handshake_auth, so it cannot be asked for a certificate after the handshake'

if start_mutls_server PH "${srv[@]}" --client-auth none --http --pha-path /secret; then
	out=$T_TMP/pha.out
	for client in openssl python; do
		if [ "$client" = openssl ]; then
			run=pha_sc pha=-enable_pha
		else
			run=pha_py pha=--pha
		fi
		mark PH
		$run "$out" /secret client "$pha"
		need "$client exited with $?" test $? -eq 0
		need "no HTTP 200" has "$out" '^HTTP/1\.1 200 OK'
		need "the page does not name 'CN=mutls test client'" \
			has "$out" '^client certificate: CN=mutls test client$'
		need "the page does not show the SPIFFE ID" \
			has "$out" '^client spiffe id: spiffe://mutls\.test/client$'
		need "server log is not 'ok ... client=$me resumed=no http=200'" \
			next_logged PH " ok TLSv1\.3 .* client=$me resumed=no http=200 end=closed_by_server\$"
		verdict "resume_server.pha.$client.identity" "$out" "$T_TMP/PH.err"

		# Without the offer: 403 and the sentence, and no identity.
		mark PH
		$run "$out" /secret client
		need "$client exited with $?" test $? -eq 0
		need "no HTTP 403" has "$out" '^HTTP/1\.1 403 Forbidden'
		need "the body is not '$forbidden'" has "$out" "^$forbidden\$"
		need "server log is not 'ok ... client=- resumed=no http=403'" \
			next_logged PH " ok TLSv1\.3 .* client=- resumed=no http=403 "
		verdict "resume_server.pha.$client.not_offered_403" "$out" "$T_TMP/PH.err"

		# Offered, but another path: nobody asks, no certificate is sent.
		mark PH
		$run "$out" /open client "$pha"
		need "$client exited with $?" test $? -eq 0
		need "no HTTP 200" has "$out" '^HTTP/1\.1 200 OK'
		need "the page does not say 'client certificate: none'" \
			has "$out" '^client certificate: none$'
		need "server log is not 'ok ... client=- resumed=no http=200'" \
			next_logged PH " ok TLSv1\.3 .* client=- resumed=no http=200 "
		verdict "resume_server.pha.$client.other_path_not_asked" "$out" "$T_TMP/PH.err"

		# An expired certificate, sent when asked: refused with its alert.
		mark PH
		$run "$out" /secret client-expired "$pha"
		if [ "$client" = openssl ]; then
			need "s_client did not read 'sslv3 alert certificate expired' (45)" \
				has "$out" ':sslv3 alert certificate expired:.*SSL alert number 45$'
		else
			need "python did not read SSLV3_ALERT_CERTIFICATE_EXPIRED" \
				has "$out" '^ssl_error=SSLV3_ALERT_CERTIFICATE_EXPIRED: '
		fi
		need "a page came" hasnt "$out" '^HTTP/'
		need "server log is not 'http=- end=MUTLS_E_CERT_EXPIRED: the certificate for CN=expired client expired on 2020-02-01 ...'" \
			next_logged PH ' ok TLSv1\.3 .* http=- end=MUTLS_E_CERT_EXPIRED: the certificate for CN=expired client expired on 2020-02-01 00:00:00 UTC'
		verdict "resume_server.pha.$client.expired_refused" "$out" "$T_TMP/PH.err"
	done
	stop_bg "$PH"
else
	fail resume_server.pha "mutls server did not start"
fi

# ---- 2 (end). an identity that expired after its ticket was issued ------------
if [ -n "$short_made" ] && [ -s "$T_TMP/client-short.sess" ]; then
	while [ "$(date +%s)" -le "$short_until" ]; do
		sleep 0.2
	done
	refused_case resume_server.expired_does_not_resume "$T_TMP/client-short.sess" client-short \
		certificate_expired 45 MUTLS_E_CERT_EXPIRED \
		'the certificate for CN=short client expired on ' --ticket-keys "$T_TMP/keys.A"
fi

finish
