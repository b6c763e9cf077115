#!/usr/bin/env bash
# tests/cli/mtls.sh - mutual TLS through the CLI, black box: mutls server
# --client-ca/--client-auth/--allow-*/--crl/--tickets against mutls client
# --cert/--key/--confirm/--sess-out/--sess-in. Each case checks what both
# sides print: the client's exit status and lines, the server's log line,
# and the identity on the --http page.
# shellcheck source=tests/cli/cli.bash
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
. "$(dirname "$0")/cli.bash"
cli_begin mtls pki

get=$'GET / HTTP/1.0\r\n\r\n'
mtls=(--client-ca "$P/ca.pem")
as_client=(--cert "$P/client.pem" --key "$P/client.key")
as_billing=(--cert "$P/client-billing.pem" --key "$P/client-billing.key")
as_other=(--cert "$P/client-other.pem" --key "$P/client-other.key")

# sha256_of FILE: the SHA-256 of the certificate in FILE (DER), in hex.
sha256_of() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
# spki_of FILE: the SHA-256 of its public key (SubjectPublicKeyInfo DER).
spki_of() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }

# refused_by_server NAME N ALERT CODE SENTENCE_REGEX: the client NAME
# exited 1 with "handshake failed: MUTLS_E_PEER_ALERT (alert received:
# ALERT)", printed nothing on stdout, and the server SV logged its Nth line
# as "failed CODE alert_sent=ALERT: <SENTENCE_REGEX>".
refused_by_server() {
	local name=$1 n=$2 alert=$3 code=$4 re=$5
	need "client exited with $MC_RC, not 1" test "$MC_RC" -eq 1
	need "client did not say 'handshake failed: MUTLS_E_PEER_ALERT (alert received: $alert)'" \
		has "$T_TMP/$name.err" "^mutls client: handshake failed: MUTLS_E_PEER_ALERT \\(alert received: $alert\\): the peer sent the alert $alert: .+"
	need "something on stdout" empty "$T_TMP/$name.out"
	need "server did not log 'failed $code alert_sent=$alert: <$re>'" \
		logged SV "$n" " failed $code alert_sent=$alert: .*$re"
}

# ---- choosing a mode is required -------------------------------------------------

run_mutls no_mode server --listen 127.0.0.1:0 "${P256[@]}" "${mtls[@]}"
need "exit $RC, not 1" test $RC -eq 1
need "stderr is not one 'cannot start: ... --client-auth require|optional|none' line" \
	one_sentence "$T_TMP/no_mode.err" \
	'^mutls server: cannot start: the server trusts client CAs but no client authentication mode was chosen.*--client-auth require\|optional\|none'
need "something on stdout (did it listen?)" empty "$T_TMP/no_mode.out"
verdict mtls.client_ca_without_client_auth "$T_TMP/no_mode.err"

run_mutls rules_no_mode server --listen 127.0.0.1:0 "${P256[@]}" --allow-cn billing
need "exit $RC, not 1" test $RC -eq 1
need "stderr is not one 'cannot start: allow rules are set but client certificates are not requested' line" \
	one_sentence "$T_TMP/rules_no_mode.err" '^mutls server: cannot start: allow rules are set but client certificates are not requested'
verdict mtls.allow_rules_without_client_auth "$T_TMP/rules_no_mode.err"

# ---- require --------------------------------------------------------------------------

if start_mutls_server SV "${P256[@]}" --http "${mtls[@]}" --client-auth require; then
	mutls_client req_ok "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_client[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "no 200" has "$T_TMP/req_ok.out" $'^HTTP/1\\.1 200 OK\r$'
	need "the page does not show the SPIFFE ID" \
		has "$T_TMP/req_ok.out" '^client spiffe id: spiffe://mutls\.test/client$'
	need "the page does not show the subject" \
		has "$T_TMP/req_ok.out" '^client certificate: CN=mutls test client$'
	need "the page does not show the issuer" \
		has "$T_TMP/req_ok.out" '^client certificate issuer: CN=mutls test CA$'
	need "the page does not show the fingerprint" \
		has "$T_TMP/req_ok.out" "^client certificate sha256: $(sha256_of "$P/client.pem")\$"
	need "the page does not say resumed: no" has "$T_TMP/req_ok.out" '^resumed: no$'
	need "client did not print 'client certificate sent: subject=CN=mutls test client issuer=CN=mutls test CA'" \
		has "$T_TMP/req_ok.err" '^mutls client: client certificate sent: subject=CN=mutls test client issuer=CN=mutls test CA sans=URI:spiffe://mutls\.test/client sha256=[0-9a-f]{64}$'
	need "server log is not '... hrr=no client=spiffe://mutls.test/client resumed=no http=200 end=closed_by_server'" \
		logged SV 1 ' ok TLSv1\.3 .* hrr=no client=spiffe://mutls\.test/client resumed=no http=200 end=closed_by_server$'
	verdict mtls.require_with_certificate "$T_TMP/req_ok.out" "$T_TMP/req_ok.err" "$T_TMP/SV.err"

	# No certificate: the refusal arrives after the client's handshake, and
	# must still cost exit 1 and a "handshake failed" line.
	mutls_client req_none "$get" "127.0.0.1:$SV_port" "${TRUST[@]}"
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "client did not say 'handshake failed: ... certificate_required ... none is configured'" \
		has "$T_TMP/req_none.err" '^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: certificate_required\): the peer sent the alert certificate_required: the server requires a client certificate and none was sent \(the server asked for a client certificate and none is configured'
	need "something on stdout" empty "$T_TMP/req_none.out"
	need "server did not log 'failed MUTLS_E_CERT_MISSING alert_sent=certificate_required: the client sent no certificate'" \
		logged SV 2 ' failed MUTLS_E_CERT_MISSING alert_sent=certificate_required: the client sent no certificate, and this server requires one'
	verdict mtls.require_without_certificate "$T_TMP/req_none.err" "$T_TMP/SV.err"

	# A certificate from a CA the server does not list: the client says why
	# it sent none, and the refusal repeats it.
	mutls_client req_other "" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_other[@]}"
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "no notice 'no client certificate was sent: the server accepts client certificates issued by CN=mutls test CA; ours is issued by CN=mutls other CA'" \
		has "$T_TMP/req_other.err" '^mutls client: no client certificate was sent: the server accepts client certificates issued by CN=mutls test CA; ours is issued by CN=mutls other CA$'
	need "the refusal does not carry the notice" \
		has "$T_TMP/req_other.err" '^mutls client: handshake failed: .*certificate_required.*ours is issued by CN=mutls other CA'
	verdict mtls.notice_ca_list_excludes_issuer "$T_TMP/req_other.err" "$T_TMP/SV.err"

	# Two identities, the first from the other CA: the second is sent.
	mutls_client two_ids "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_other[@]}" "${as_client[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "the page does not show the second identity" \
		has "$T_TMP/two_ids.out" '^client spiffe id: spiffe://mutls\.test/client$'
	need "client did not say it sent one of 2" \
		has "$T_TMP/two_ids.err" '^mutls client: client certificate sent: one of the 2 given with --cert$'
	need "server did not log client=spiffe://mutls.test/client" \
		logged SV 4 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/client resumed=no '
	verdict mtls.identity_chosen_by_ca "$T_TMP/two_ids.out" "$T_TMP/two_ids.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail mtls.require_with_certificate "mutls server did not start"
fi

# ---- optional ---------------------------------------------------------------------------

if start_mutls_server SV "${P256[@]}" --http "${mtls[@]}" --client-auth optional; then
	mutls_client opt_none "$get" "127.0.0.1:$SV_port" "${TRUST[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "no 200" has "$T_TMP/opt_none.out" $'^HTTP/1\\.1 200 OK\r$'
	need "the page does not say 'client certificate: none'" \
		has "$T_TMP/opt_none.out" '^client certificate: none$'
	need "client did not say the server asked and none is configured" \
		has "$T_TMP/opt_none.err" '^mutls client: the server asked for a client certificate and none is configured'
	need "server log is not '... client=- resumed=no http=200 ...'" \
		logged SV 1 ' ok TLSv1\.3 .* client=- resumed=no http=200 end=closed_by_server$'
	verdict mtls.optional_without_certificate "$T_TMP/opt_none.out" "$T_TMP/opt_none.err" "$T_TMP/SV.err"

	# Optional still verifies a certificate that is sent.
	mutls_client opt_expired "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" \
		--cert "$P/client-expired.pem" --key "$P/client-expired.key"
	refused_by_server opt_expired 2 certificate_expired MUTLS_E_CERT_EXPIRED \
		'expired on 2020-02-01'
	verdict mtls.optional_verifies_what_is_sent "$T_TMP/opt_expired.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail mtls.optional_without_certificate "mutls server did not start"
fi

# ---- allow rules ------------------------------------------------------------------------

# allow_case KIND ALLOWING DENYING: one server whose only rule is
# --allow-KIND ALLOWING lets client-billing in; one with --allow-KIND
# DENYING refuses it with access_denied on both sides, and its log names
# the identity and the rule.
allow_case() {
	local kind=$1 yes=$2 no=$3
	if start_mutls_server SV "${P256[@]}" --http "${mtls[@]}" --client-auth require \
		"--allow-$kind" "$yes"; then
		mutls_client "allow_$kind" "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_billing[@]}"
		need "client exited with $MC_RC" test $MC_RC -eq 0
		need "the page does not show spiffe://mutls.test/billing/api" \
			has "$T_TMP/allow_$kind.out" '^client spiffe id: spiffe://mutls\.test/billing/api$'
		need "server did not log ok client=spiffe://mutls.test/billing/api" \
			logged SV 1 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/billing/api resumed=no http=200 '
		verdict "mtls.allow_${kind}_allows" "$T_TMP/allow_$kind.err" "$T_TMP/SV.err"
		stop_bg "$SV"
	else
		fail "mtls.allow_${kind}_allows" "mutls server did not start"
	fi
	if start_mutls_server SV "${P256[@]}" --http "${mtls[@]}" --client-auth require \
		"--allow-$kind" "$no"; then
		mutls_client "deny_$kind" "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_billing[@]}"
		refused_by_server "deny_$kind" 1 access_denied MUTLS_E_ACCESS_DENIED \
			"the peer OU=ledger,OU=payments,CN=billing \\(URI:spiffe://mutls\\.test/billing/api, DNS:billing\\.mutls\\.test\\) is not allowed: it matches none of the 1 allow rule \\($kind:"
		verdict "mtls.allow_${kind}_denies" "$T_TMP/deny_$kind.err" "$T_TMP/SV.err"
		stop_bg "$SV"
	else
		fail "mtls.allow_${kind}_denies" "mutls server did not start"
	fi
}

allow_case uri 'spiffe://mutls.test/billing/*' 'spiffe://mutls.test/web/*'
allow_case dns '*.mutls.test' '*.other.test'
allow_case cn billing 'mutls test client'
allow_case ou ledger web
allow_case pin "$(sha256_of "$P/client-billing.pem")" "$(sha256_of "$P/client.pem")"
allow_case spki "$(spki_of "$P/client-billing.pem")" "$(spki_of "$P/client.pem")"

# Rules are OR-ed: one that fails and one that matches let the client in.
if start_mutls_server SV "${P256[@]}" "${mtls[@]}" --client-auth require \
	--allow-uri 'spiffe://mutls.test/web/*' --allow-ou payments; then
	mutls_client allow_or "" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_billing[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "server did not log ok client=spiffe://mutls.test/billing/api" \
		logged SV 1 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/billing/api '
	verdict mtls.allow_rules_or "$T_TMP/allow_or.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail mtls.allow_rules_or "mutls server did not start"
fi

# The client constrains the server the same way.
if start_mutls_server SV "${P256[@]}"; then
	mutls_client srv_allowed "" "127.0.0.1:$SV_port" "${TRUST[@]}" --allow-dns localhost
	need "client exited with $MC_RC" test $MC_RC -eq 0
	verdict mtls.client_allow_allows "$T_TMP/srv_allowed.err"
	mutls_client srv_denied "" "127.0.0.1:$SV_port" "${TRUST[@]}" --allow-uri 'spiffe://mutls.test/api'
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "client did not say 'handshake failed: MUTLS_E_ACCESS_DENIED (alert sent: access_denied): the peer CN=localhost ... (uri:spiffe://mutls.test/api)'" \
		one_sentence "$T_TMP/srv_denied.err" '^mutls client: handshake failed: MUTLS_E_ACCESS_DENIED \(alert sent: access_denied\): the peer CN=localhost .*is not allowed: .*\(uri:spiffe://mutls\.test/api\)'
	need "server did not log alert_received=access_denied" \
		logged SV 2 ' failed MUTLS_E_PEER_ALERT alert_received=access_denied: '
	verdict mtls.client_allow_denies "$T_TMP/srv_denied.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail mtls.client_allow_allows "mutls server did not start"
fi

# ---- resumption ---------------------------------------------------------------------------

if start_mutls_server SV "${P256[@]}" --http "${mtls[@]}" --client-auth require; then
	sess=$T_TMP/session.bin
	mutls_client sess_out "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_client[@]}" --sess-out "$sess"
	need "first client exited with $MC_RC" test $MC_RC -eq 0
	need "no session file" test -s "$sess"
	need "the session file's mode is $(stat -c %a "$sess" 2>/dev/null), not 600" \
		test "$(stat -c %a "$sess" 2>/dev/null)" = 600
	need "no 'session saved to'" has "$T_TMP/sess_out.err" "^mutls client: session saved to "
	mutls_client sess_in "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_client[@]}" --sess-in "$sess"
	need "second client exited with $MC_RC" test $MC_RC -eq 0
	need "the client did not report resumed=yes" \
		has "$T_TMP/sess_in.err" '^mutls client: connected to 127\.0\.0\.1:[0-9]+ \(TLSv1\.3, .*, hrr=no, resumed=yes\)$'
	need "the page does not say resumed: yes" has "$T_TMP/sess_in.out" '^resumed: yes$'
	need "the page lost the identity" \
		has "$T_TMP/sess_in.out" '^client spiffe id: spiffe://mutls\.test/client$'
	need "server log is not '... client=spiffe://mutls.test/client resumed=yes http=200 ...'" \
		logged SV 2 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/client resumed=yes http=200 end=closed_by_server$'
	verdict mtls.resumption "$T_TMP/sess_out.err" "$T_TMP/sess_in.err" "$T_TMP/sess_in.out" "$T_TMP/SV.err"

	printf 'not a session' >"$T_TMP/bad.bin"
	mutls_client sess_bad "" "127.0.0.1:$SV_port" "${TRUST[@]}" --sess-in "$T_TMP/bad.bin"
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "stderr is not one '--sess-in: ... is not a session saved by mutls client --sess-out'" \
		one_sentence "$T_TMP/sess_bad.err" '^mutls client: --sess-in: .*bad\.bin is not a session saved by mutls client --sess-out'
	verdict mtls.sess_in_not_a_session "$T_TMP/sess_bad.err"
	stop_bg "$SV"
else
	fail mtls.resumption "mutls server did not start"
fi

# ---- confirmation -------------------------------------------------------------------------

if start_mutls_server SV "${P256[@]}" "${mtls[@]}" --client-auth require; then
	# Refused: reported by the handshake, before any of stdin is sent.
	mutls_client confirm_no "secret request\n" "127.0.0.1:$SV_port" "${TRUST[@]}" --confirm
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "stderr is not only 'handshake failed: MUTLS_E_PEER_ALERT (alert received: certificate_required): ...'" \
		one_sentence "$T_TMP/confirm_no.err" '^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: certificate_required\): .*none was sent'
	need "server did not log MUTLS_E_CERT_MISSING" \
		logged SV 1 ' failed MUTLS_E_CERT_MISSING alert_sent=certificate_required: '
	verdict mtls.confirm_refused "$T_TMP/confirm_no.err" "$T_TMP/SV.err"

	mutls_client confirm_yes $'hello\n' "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_client[@]}" --confirm=2000
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'server confirmed acceptance'" \
		has "$T_TMP/confirm_yes.err" '^mutls client: server confirmed acceptance$'
	need "no echo" has "$T_TMP/confirm_yes.out" '^hello$'
	verdict mtls.confirm_accepted "$T_TMP/confirm_yes.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail mtls.confirm_refused "mutls server did not start"
fi

# A server that sends nothing after the handshake (no tickets): a bounded
# wait, then "not confirmed", and the connection goes on.
if start_mutls_server SV "${P256[@]}" --tickets 0; then
	start=$SECONDS
	mutls_client confirm_silent $'hello\n' "127.0.0.1:$SV_port" "${TRUST[@]}" --confirm=300
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'not confirmed: the server sent nothing within 300 ms'" \
		has "$T_TMP/confirm_silent.err" '^mutls client: not confirmed: the server sent nothing within 300 ms'
	need "no echo" has "$T_TMP/confirm_silent.out" '^hello$'
	need "it took $((SECONDS - start)) s" test $((SECONDS - start)) -le 3
	verdict mtls.confirm_silent_server "$T_TMP/confirm_silent.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail mtls.confirm_silent_server "mutls server did not start"
fi

# ---- revocation ---------------------------------------------------------------------------

# A CRL from each CA, made with `openssl ca` and a throwaway database: the
# test CA's revokes client.pem, the other CA's revokes nothing.
crl_dir=$T_TMP/crl
mkdir -p "$crl_dir/ca" "$crl_dir/other"
cat >"$crl_dir/ca.cnf" <<'EOF'
[ca]
default_ca = crl
[crl]
database = $ENV::CRL_DB/index.txt
default_md = sha256
default_crl_days = 1
EOF
: >"$crl_dir/ca/index.txt"
: >"$crl_dir/other/index.txt"
if CRL_DB=$crl_dir/ca openssl ca -batch -config "$crl_dir/ca.cnf" -cert "$P/ca.pem" \
	-keyfile "$P/ca.key" -revoke "$P/client.pem" >"$crl_dir/log" 2>&1 &&
	CRL_DB=$crl_dir/ca openssl ca -batch -config "$crl_dir/ca.cnf" -cert "$P/ca.pem" \
		-keyfile "$P/ca.key" -gencrl -out "$crl_dir/ca.crl" >>"$crl_dir/log" 2>&1 &&
	CRL_DB=$crl_dir/other openssl ca -batch -config "$crl_dir/ca.cnf" -cert "$P/other-ca.pem" \
		-keyfile "$P/other-ca.key" -gencrl -out "$crl_dir/other.crl" >>"$crl_dir/log" 2>&1; then
	crls_made=1
else
	crls_made=
	fail mtls.crl "openssl ca could not make the CRLs"
	dump "$crl_dir/log"
fi

if [ -n "$crls_made" ] && start_mutls_server SV "${P256[@]}" --http "${mtls[@]}" \
	--client-auth require --crl "$crl_dir/ca.crl"; then
	mutls_client revoked "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_client[@]}"
	refused_by_server revoked 1 certificate_revoked MUTLS_E_CERT_REVOKED \
		'the certificate for CN=mutls test client \(serial 0x12\) was revoked on '
	verdict mtls.crl_revoked "$T_TMP/revoked.err" "$T_TMP/SV.err"

	mutls_client not_revoked "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_billing[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "server did not log ok for billing" \
		logged SV 2 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/billing/api '
	verdict mtls.crl_not_revoked "$T_TMP/not_revoked.err" "$T_TMP/SV.err"
	stop_bg "$SV"
elif [ -n "$crls_made" ]; then
	fail mtls.crl_revoked "mutls server did not start"
fi

# Only the other CA's CRL: the client's issuer has none.
if [ -n "$crls_made" ] && start_mutls_server SV "${P256[@]}" "${mtls[@]}" \
	--client-auth require --crl "$crl_dir/other.crl"; then
	mutls_client crl_missing "" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_billing[@]}"
	refused_by_server crl_missing 1 certificate_unknown MUTLS_E_CRL_MISSING \
		'no CRL from CN=mutls test CA was loaded'
	verdict mtls.crl_missing "$T_TMP/crl_missing.err" "$T_TMP/SV.err"
	stop_bg "$SV"
elif [ -n "$crls_made" ]; then
	fail mtls.crl_missing "mutls server did not start"
fi

if [ -n "$crls_made" ] && start_mutls_server SV "${P256[@]}" "${mtls[@]}" \
	--client-auth require --crl "$crl_dir/other.crl" --crl-soft-fail; then
	mutls_client crl_soft "" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_billing[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "server did not log ok for billing" \
		logged SV 1 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/billing/api '
	verdict mtls.crl_missing_soft_fail "$T_TMP/crl_soft.err" "$T_TMP/SV.err"
	stop_bg "$SV"
elif [ -n "$crls_made" ]; then
	fail mtls.crl_missing_soft_fail "mutls server did not start"
fi

# The client checks the server's certificate against its own --crl.
if [ -n "$crls_made" ] && start_mutls_server SV "${P256[@]}"; then
	mutls_client client_crl "" "127.0.0.1:$SV_port" "${TRUST[@]}" --crl "$crl_dir/ca.crl"
	need "client with the CA's CRL exited with $MC_RC" test $MC_RC -eq 0
	mutls_client client_crl_missing "" "127.0.0.1:$SV_port" "${TRUST[@]}" --crl "$crl_dir/other.crl"
	need "client with only the other CRL exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "client did not say 'handshake failed: MUTLS_E_CRL_MISSING (alert sent: certificate_unknown)'" \
		one_sentence "$T_TMP/client_crl_missing.err" \
		'^mutls client: handshake failed: MUTLS_E_CRL_MISSING \(alert sent: certificate_unknown\): no CRL from CN=mutls test CA'
	verdict mtls.client_crl "$T_TMP/client_crl.err" "$T_TMP/client_crl_missing.err"
	stop_bg "$SV"
elif [ -n "$crls_made" ]; then
	fail mtls.client_crl "mutls server did not start"
fi

# ---- post-handshake authentication -----------------------------------------------------

# --client-auth none: nobody is asked during the handshake; a request for
# /admin asks then.
if start_mutls_server SV "${P256[@]}" --http "${mtls[@]}" --client-auth none --pha-path /admin; then
	pha_get=$'GET /admin HTTP/1.0\r\n\r\n'
	mutls_client pha_plain "$get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_client[@]}" --pha
	need "a request for / exited with $MC_RC" test $MC_RC -eq 0
	need "a request for / shows a client certificate" \
		has "$T_TMP/pha_plain.out" '^client certificate: none$'
	mutls_client pha_ok "$pha_get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_client[@]}" --pha
	need "a request for /admin with --pha exited with $MC_RC" test $MC_RC -eq 0
	need "the /admin page does not show the SPIFFE ID" \
		has "$T_TMP/pha_ok.out" '^client spiffe id: spiffe://mutls\.test/client$'
	need "the client did not say it sent its certificate after the handshake" \
		has "$T_TMP/pha_ok.err" "^mutls client: client certificate sent after the handshake, at the server's request: subject=CN=mutls test client "
	need "server log is not '... client=spiffe://mutls.test/client ... http=200'" \
		logged SV 2 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/client resumed=no http=200 end=closed_by_server$'
	verdict mtls.pha "$T_TMP/pha_plain.out" "$T_TMP/pha_ok.out" "$T_TMP/pha_ok.err" "$T_TMP/SV.err"

	mutls_client pha_no "$pha_get" "127.0.0.1:$SV_port" "${TRUST[@]}" "${as_client[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "no 403 without --pha" has "$T_TMP/pha_no.out" $'^HTTP/1\\.1 403 Forbidden\r$'
	need "the 403 page does not say why" \
		has "$T_TMP/pha_no.out" '^forbidden: the client did not offer post_handshake_auth'
	need "server log is not '... client=- resumed=no http=403'" \
		logged SV 3 ' ok TLSv1\.3 .* client=- resumed=no http=403 end=closed_by_server$'
	verdict mtls.pha_not_offered "$T_TMP/pha_no.out" "$T_TMP/SV.err"

	# A certificate sent after the handshake is verified like any other.
	mutls_client pha_expired "$pha_get" "127.0.0.1:$SV_port" "${TRUST[@]}" --pha \
		--cert "$P/client-expired.pem" --key "$P/client-expired.key"
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "client did not report alert received: certificate_expired" \
		has "$T_TMP/pha_expired.err" '^mutls client: connection failed: MUTLS_E_PEER_ALERT \(alert received: certificate_expired\)'
	need "something on stdout" empty "$T_TMP/pha_expired.out"
	need "server log does not end with MUTLS_E_CERT_EXPIRED and the date" \
		logged SV 4 ' http=- end=MUTLS_E_CERT_EXPIRED: the certificate for CN=expired client expired on 2020-02-01'
	verdict mtls.pha_refused "$T_TMP/pha_expired.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail mtls.pha "mutls server did not start"
fi

# ---- the command line -------------------------------------------------------------------

# usage NAME REGEX ARGS...: `mutls ARGS` exits 2 with one line matching REGEX.
usage() {
	local name=$1 re=$2
	shift 2
	run_mutls "$name" "$@"
	need "exit $RC, not 2" test $RC -eq 2
	need "stderr is not one line matching /$re/" one_sentence "$T_TMP/$name.err" "$re"
	verdict "mtls.usage_$name" "$T_TMP/$name.err"
}
cli=(client 127.0.0.1:1 "${TRUST[@]}")
usage cert_without_key "^mutls client: --cert b\\.pem has no --key: give --cert and --key in pairs" \
	"${cli[@]}" --cert a.pem --key a.key --cert b.pem
usage key_without_cert "^mutls client: --key a\\.key has no --cert: give --cert and --key in pairs" \
	"${cli[@]}" --key a.key
usage confirm_zero "^mutls client: --confirm=0: give a whole number of milliseconds from 1 to 600000" \
	"${cli[@]}" --confirm=0
usage crl_chain_alone "^mutls client: --crl-chain needs at least one --crl FILE" "${cli[@]}" --crl-chain
usage client_auth_word "^mutls server: --client-auth 'always': choose require, optional or none" \
	server --listen 127.0.0.1:0 "${P256[@]}" "${mtls[@]}" --client-auth always
usage pha_without_http "^mutls server: --pha-path needs --http" \
	server --listen 127.0.0.1:0 "${P256[@]}" "${mtls[@]}" --client-auth none --pha-path /admin
usage tickets_too_many "^mutls server: --tickets '9': give a whole number of tickets from 0 to 8" \
	server --listen 127.0.0.1:0 "${P256[@]}" --tickets 9

run_mutls bad_pin server --listen 127.0.0.1:0 "${P256[@]}" "${mtls[@]}" --client-auth require \
	--allow-pin 1234
need "exit $RC, not 1" test $RC -eq 1
need "stderr is not one '--allow-pin 1234: the allow rule \"pin:1234\" is malformed' line" \
	one_sentence "$T_TMP/bad_pin.err" '^mutls server: --allow-pin 1234: the allow rule "pin:1234" is malformed'
verdict mtls.malformed_rule "$T_TMP/bad_pin.err"

finish
