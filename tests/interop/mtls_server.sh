#!/usr/bin/env bash
# tests/interop/mtls_server.sh - mutual TLS, real clients -> `mutls server
# --client-ca ca.pem --client-auth require|optional`: the matrix
#   {openssl s_client, gnutls-cli, Go (gopeer client), curl, Python ssl}
#   x {client certificate from the right CA (client.pem), from a wrong CA
#      (client-other.pem), none, expired (client-expired.pem), without the
#      clientAuth EKU (client-noeku.pem)}
#   x {require, optional}.
# Each case has its expected outcome: accepted (the echo or the --http page
# comes back, and the page names the verified client: subject and SPIFFE ID)
# or refused, with on our side the error code, alert and sentence in the
# server's log line ("failed MUTLS_E_CERT_UNTRUSTED alert_sent=unknown_ca:
# ..."), and on the client's side the alert it reports.
#
# TLS 1.3: the client's handshake completes before the server has judged its
# certificate, so a refused client learns it only from the alert on its first
# read. Every client therefore sends data and reads, and the outcome is what
# that read returned. Go and Python print the handshake's success first,
# which shows it.
#
# Two clients choose not to send a certificate, and that is their expected
# outcome, not ours: Go's crypto/tls sends only a certificate whose issuer is
# in the server's certificate_authorities, so with client-other.pem it sends
# none (require: certificate_required; optional: served as anonymous).
# OpenSSL (s_client, curl, Python) and GnuTLS send what they are given.
#
# openssl s_client, gnutls-cli and Go talk to an --echo server; curl and
# Python to an --http server. One server of each kind per mode serves every
# case of that mode.
# shellcheck source=tests/lib.sh
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
. "$(dirname "$0")/../lib.sh"
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail mtls_server.make_certs "could not make the test certificates"
	finish
}
PYCLIENT=$(cd "$(dirname "$0")" && pwd)/mtls_pyclient.py
have_go=1
if ! build_gopeer; then
	fail mtls_server.build_gopeer "could not build tests/interop/gopeer (is golang-go installed?)"
	have_go=
fi

clients="openssl gnutls go curl python"
certs="client client-other none client-expired client-noeku"
srv=(--cert "$P/server-p256.pem" --key "$P/server-p256.key" --client-ca "$P/ca.pem")

# ---- what each case must give ---------------------------------------------
# The server's side of a refusal, per certificate: code, alert, sentence.
declare -A code=([client-other]=MUTLS_E_CERT_UNTRUSTED [none]=MUTLS_E_CERT_MISSING
	[client-expired]=MUTLS_E_CERT_EXPIRED [client-noeku]=MUTLS_E_CERT_UNSUPPORTED)
declare -A alert=([client-other]=unknown_ca [none]=certificate_required
	[client-expired]=certificate_expired [client-noeku]=unsupported_certificate)
declare -A sentence=(
	[client-other]='the certificate for CN=other client was issued by CN=mutls other CA, which is not in the trust store; '
	[none]='the client sent no certificate, and this server requires one; '
	[client-expired]='the certificate for CN=expired client expired on 2020-02-01 00:00:00 UTC; renew it'
	[client-noeku]='the certificate for CN=noeku client is not allowed for TLS client authentication \(extended key usage\); reissue it with clientAuth')
# The alert as each client reports it: OpenSSL's reason text (s_client and
# curl), its reason code (Python), GnuTLS's alert number, Go's error text.
declare -A alert_num=([unknown_ca]=48 [certificate_required]=116 [certificate_expired]=45
	[unsupported_certificate]=43)
declare -A ossl_text=([unknown_ca]='tlsv1 alert unknown ca'
	[certificate_required]='tlsv13 alert certificate required'
	[certificate_expired]='sslv3 alert certificate expired'
	[unsupported_certificate]='sslv3 alert unsupported certificate')
declare -A go_text=([unknown_ca]='unknown certificate authority'
	[certificate_required]='certificate required' [certificate_expired]='expired certificate'
	[unsupported_certificate]='unsupported certificate')

# expect MODE CLIENT CERT: sets OUTCOME (ok or the certificate whose refusal
# is expected: none, client-other, ...) and ID (the log's client= on success).
expect() {
	local mode=$1 client=$2 cert=$3 sent=$3
	# Go does not send a certificate the server's CA list excludes.
	if [ "$client" = go ] && [ "$cert" = client-other ]; then
		sent=none
	fi
	case $sent in
	client) OUTCOME=ok ID='spiffe://mutls\.test/client' ;;
	none)
		if [ "$mode" = optional ]; then
			OUTCOME=ok ID=-
		else
			OUTCOME=none
		fi
		;;
	*) OUTCOME=$sent ;;
	esac
}

# ---- the server's log ------------------------------------------------------
# Each case reads the server's next per-connection line: the count before the
# client ran, plus one (waiting up to 5 s: the server logs when the
# connection ends). Cases run one after the other, so lines come in order.
declare -A seen=()
# mark VAR: remember how many lines the server VAR has logged.
mark() { seen[$1]=$(grep -c '^mutls server: ' "$T_TMP/$1.err" 2>/dev/null); }
# next_logged VAR REGEX: the server VAR's first line after the mark matches.
next_logged() { logged "$1" $((${seen[$1]:-0} + 1)) "$2"; }

# ---- the clients -----------------------------------------------------------
# run_client CLIENT PORT CERT TOKEN: one connection from CLIENT with the
# certificate CERT (or none); everything it says in $T_TMP/c.out, its exit
# status in C_RC. The echo clients send TOKEN; curl and Python GET /.
run_client() {
	local client=$1 port=$2 cert=$3 tok=$4 out=$T_TMP/c.out a=()
	: >"$out"
	case $client in
	openssl)
		[ "$cert" = none ] || a=(-cert "$P/$cert.pem" -key "$P/$cert.key")
		s_client_echo "$out" "$tok" -connect "127.0.0.1:$port" -tls1_3 -servername localhost \
			-CAfile "$P/ca.pem" -verify_return_error -brief "${a[@]}"
		;;
	gnutls)
		[ "$cert" = none ] || a=(--x509certfile "$P/$cert.pem" --x509keyfile "$P/$cert.key")
		echo_client "$out" "$tok" gnutls-cli -p "$port" --x509cafile "$P/ca.pem" \
			--verify-hostname localhost --sni-hostname localhost \
			--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' "${a[@]}" 127.0.0.1
		;;
	go)
		[ "$cert" = none ] || a=(-cert "$P/$cert.pem" -key "$P/$cert.key")
		timeout "$T_TIMEOUT" "$GOPEER" client -connect "127.0.0.1:$port" -servername localhost \
			-cacert "$P/ca.pem" -send "$tok" "${a[@]}" >"$out" 2>&1
		;;
	curl)
		[ "$cert" = none ] || a=(--cert "$P/$cert.pem" --key "$P/$cert.key")
		timeout "$T_TIMEOUT" curl -sS -v --tlsv1.3 --cacert "$P/ca.pem" \
			--resolve "localhost:$port:127.0.0.1" -i -w 'http_code=%{http_code}\n' \
			"${a[@]}" "https://localhost:$port/" >"$out" 2>&1
		;;
	python)
		[ "$cert" = none ] || a=(--cert "$P/$cert.pem" --key "$P/$cert.key")
		timeout "$T_TIMEOUT" "$PYTHON" "$PYCLIENT" 127.0.0.1 "$port" "$P/ca.pem" "${a[@]}" \
			--get / >"$out" 2>&1
		;;
	esac
	C_RC=$?
}

# client_accepted CLIENT CERT TOKEN: CLIENT's output shows it was served: the
# echo of TOKEN, or a 200 page naming the client it verified (or none).
client_accepted() {
	local client=$1 cert=$2 tok=$3 out=$T_TMP/c.out
	need "$client exited with $C_RC" test "$C_RC" -eq 0
	case $client in
	openssl | gnutls) need "no echo of $tok" has "$out" "^$tok\$" ;;
	go)
		need "no 'version=TLSv1.3'" has "$out" '^version=TLSv1\.3 '
		need "no reply=$tok" has "$out" "^reply=$tok\$"
		;;
	curl | python)
		need "no HTTP 200" has "$out" '^HTTP/1\.1 200 OK'
		if [ "$cert" = client ]; then
			need "the page does not name the client 'CN=mutls test client'" \
				has "$out" '^client certificate: CN=mutls test client$'
			need "the page does not show the SPIFFE ID spiffe://mutls.test/client" \
				has "$out" '^client spiffe id: spiffe://mutls\.test/client$'
		else
			need "the page does not say 'client certificate: none'" \
				has "$out" '^client certificate: none$'
			need "the page shows a SPIFFE ID" hasnt "$out" '^client spiffe id:'
		fi
		;;
	esac
}

# client_refused CLIENT ALERT TOKEN: CLIENT completed its handshake, got no
# data, and reports the alert ALERT on its read.
client_refused() {
	local client=$1 al=$2 tok=$3 out=$T_TMP/c.out
	case $client in
	openssl)
		need "no '${ossl_text[$al]}' (SSL alert number ${alert_num[$al]})" \
			has "$out" ":${ossl_text[$al]}:.*SSL alert number ${alert_num[$al]}\$"
		need "the echo came back" hasnt "$out" "^$tok\$"
		;;
	gnutls)
		need "gnutls-cli exited with 0" test "$C_RC" -ne 0
		need "no 'Received alert [${alert_num[$al]}]'" has "$out" "^\*\*\* Received alert \[${alert_num[$al]}\]"
		need "the echo came back" hasnt "$out" "^$tok\$"
		;;
	go)
		need "gopeer exited with $C_RC, not 1" test "$C_RC" -eq 1
		need "no 'version=TLSv1.3' (the handshake completes first)" has "$out" '^version=TLSv1\.3 '
		need "no 'read after 0 bytes: remote error: tls: ${go_text[$al]}'" \
			has "$out" "read after 0 bytes: remote error: tls: ${go_text[$al]}\$"
		;;
	curl)
		need "curl exited with $C_RC, not 56 (receive error)" test "$C_RC" -eq 56
		need "no '${ossl_text[$al]}'" has "$out" "^curl: \(56\) .*${ossl_text[$al]}"
		need "a page came" hasnt "$out" '^HTTP/'
		;;
	python)
		local reason=${ossl_text[$al]^^}
		need "python exited with $C_RC, not 1" test "$C_RC" -eq 1
		need "no 'version=TLSv1.3' (the handshake completes first)" has "$out" '^version=TLSv1\.3$'
		need "no 'ssl_error=${reason// /_}'" has "$out" "^ssl_error=${reason// /_}: "
		need "a page came" hasnt "$out" '^HTTP/'
		;;
	esac
}

# ---- the matrix --------------------------------------------------------------
for mode in require optional; do
	if ! start_mutls_server ES "${srv[@]}" --client-auth "$mode" --echo; then
		fail "mtls_server.$mode" "mutls server --echo did not start"
		continue
	fi
	if ! start_mutls_server HS "${srv[@]}" --client-auth "$mode" --http; then
		fail "mtls_server.$mode" "mutls server --http did not start"
		stop_bg "$ES"
		continue
	fi
	for client in $clients; do
		if [ "$client" = go ] && [ -z "$have_go" ]; then
			continue
		fi
		if [ "$client" = curl ] || [ "$client" = python ]; then
			sv=HS port=$HS_port
		else
			sv=ES port=$ES_port
		fi
		for cert in $certs; do
			name=mtls_server.$mode.$client.$cert
			tok=echo-$mode-$client-$cert
			expect "$mode" "$client" "$cert"
			mark "$sv"
			run_client "$client" "$port" "$cert" "$tok"
			if [ "$OUTCOME" = ok ]; then
				client_accepted "$client" "$cert" "$tok"
				need "server log is not 'ok TLSv1.3 ... client=$ID resumed=no'" \
					next_logged "$sv" " ok TLSv1\.3 .* client=$ID resumed=no( |\$)"
			else
				client_refused "$client" "${alert[$OUTCOME]}" "$tok"
				need "server log is not 'failed ${code[$OUTCOME]} alert_sent=${alert[$OUTCOME]}: ${sentence[$OUTCOME]//\\/}'" \
					next_logged "$sv" " failed ${code[$OUTCOME]} alert_sent=${alert[$OUTCOME]}: ${sentence[$OUTCOME]}"
			fi
			verdict "$name" "$T_TMP/c.out" "$T_TMP/$sv.err"
		done
	done
	stop_bg "$ES"
	stop_bg "$HS"
done

finish
