#!/usr/bin/env bash
# tests/interop/ca_peers.sh - certificates made by `mutls ca` (issue 5), in
# the hands of other TLS implementations:
#   - they pass `openssl verify -purpose sslserver` / `sslclient`;
#   a. nginx (ssl_verify_client on) with a mutls-issued server certificate
#      serves mutls client and curl presenting mutls-issued client
#      certificates: 200, and nginx names the client (SUCCESS);
#   b. after `mutls ca revoke` + `mutls ca crl`, nginx with ssl_crl refuses
#      the revoked client (400, "certificate revoked" in its log), and so does
#      `mutls server --crl` (certificate_revoked, on both sides); the others
#      are still served;
#   c. `mutls ca renew`: the renewed client certificate is accepted by nginx
#      and by our server; a server certificate renewed with --rekey is picked
#      up by a running mutls server on SIGHUP and accepted by mutls client,
#      curl and Go;
#   d. gnutls-cli, Go (gopeer client) and curl with mutls-issued client
#      certificates against `mutls server --client-auth require`, and mutls
#      client against Go's server (gopeer server -clientca);
#   e. the same with `mutls ca init --intermediate`: chains of leaf +
#      intermediate, the root alone trusted, accepted by nginx, curl and Go.
# All on 127.0.0.1; every process is stopped by PID (lib.sh's EXIT trap).
# shellcheck source=tests/lib.sh
# shellcheck disable=SC2317  # helpers called through `need`
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
. "$(dirname "$0")/../lib.sh"
mk_tmp
have_mutls || finish

# ---- the CA and its certificates -----------------------------------------------------

A=$T_TMP/pki
I=$A/issued
# ca ARGS...: `mutls ca ARGS`, its output appended to ca.log; fails loudly.
ca() {
	echo "\$ mutls ca $*" >>"$T_TMP/ca.log"
	timeout "$T_TIMEOUT" "$MUTLS" ca "$@" </dev/null >>"$T_TMP/ca.log" 2>&1
}
if ! {
	ca init "$A" --name "ca peers CA" &&
		ca issue "$A" --server localhost --ip 127.0.0.1 &&
		ca issue "$A" --client billing --uri spiffe://peers.test/billing/api &&
		ca issue "$A" --client leaver --uri spiffe://peers.test/billing/leaver &&
		ca issue "$A" --client edge --uri spiffe://peers.test/edge --key-type ed25519
}; then
	fail ca_peers.mutls_ca "mutls ca could not make the CA and the certificates"
	dump "$T_TMP/ca.log"
	finish
fi

# ossl_verify ARGS...: `openssl verify ARGS`, its output in verify.log.
ossl_verify() { openssl verify "$@" >>"$T_TMP/verify.log" 2>&1; }
for c in localhost billing leaver edge; do
	purpose=sslclient
	[ $c = localhost ] && purpose=sslserver
	need "openssl verify -purpose $purpose refused $c.pem" \
		ossl_verify -CAfile "$A/ca.pem" -purpose $purpose "$I/$c.pem"
done
verdict ca_peers.openssl_verify "$T_TMP/verify.log"
# child_of PID: the mutls process under the `timeout` that start_bg runs.
child_of() { pgrep -P "$1" | head -n 1; }

# sha256_of FILE: the SHA-256 (hex) of the first certificate in FILE (DER).
sha256_of() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
# serial_of FILE
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }

get=$'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'
# as NAME: our client's options to present the certificate NAME from $I.
as() { printf '%s\n' --cert "$I/$1.pem" --key "$I/$1.key"; }
mapfile -t as_billing < <(as billing)
mapfile -t as_leaver < <(as leaver)
mapfile -t as_edge < <(as edge)
TRUST=(--cacert "$A/ca.pem" --servername localhost)
# The SPIFFE IDs, as regexes for the server's log.
declare -A id_re=([billing]='spiffe://peers\.test/billing/api' [edge]='spiffe://peers\.test/edge')

# curl_get NAME PORT ARGS...: curl https://localhost:PORT/ (pinned to
# 127.0.0.1), trusting only the CA; -i output in $T_TMP/NAME.out, -v in
# .err, the status in CURL_RC.
curl_get() {
	local name=$1 port=$2
	shift 2
	timeout "$T_TIMEOUT" curl -sS -v -i --tlsv1.3 --cacert "$A/ca.pem" \
		--resolve "localhost:$port:127.0.0.1" "$@" "https://localhost:$port/" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	CURL_RC=$?
}

# ---- nginx ---------------------------------------------------------------------------------

# start_nginx NAME CERT KEY [DIRECTIVES]: nginx in the foreground, one process,
# everything it writes under $T_TMP/nginx-NAME; it requires a client
# certificate from $A/ca.pem and answers 200 "<subject> <verify result>".
# Sets NG (PID), NG_port, NG_dir.
start_nginx() {
	local name=$1 cert=$2 key=$3 extra=${4:-} _
	NG_dir=$T_TMP/nginx-$name
	mkdir -p "$NG_dir"
	for _ in 1 2 3; do
		NG_port=$(free_port)
		cat >"$NG_dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $NG_dir/nginx.pid;
error_log $NG_dir/error.log info;
events { worker_connections 64; }
http {
	access_log $NG_dir/access.log;
	client_body_temp_path $NG_dir/body;
	proxy_temp_path $NG_dir/proxy;
	fastcgi_temp_path $NG_dir/fastcgi;
	uwsgi_temp_path $NG_dir/uwsgi;
	scgi_temp_path $NG_dir/scgi;
	server {
		listen 127.0.0.1:$NG_port ssl;
		ssl_protocols TLSv1.3;
		ssl_certificate $cert;
		ssl_certificate_key $key;
		ssl_client_certificate $A/ca.pem;
		ssl_verify_client on;
		$extra
		location / {
			default_type text/plain;
			return 200 "\$ssl_client_s_dn \$ssl_client_verify\n";
		}
	}
}
EOF
		: >"$NG_dir/error.log"
		start_bg NG /usr/sbin/nginx -e "$NG_dir/stderr.log" -p "$NG_dir" -c "$NG_dir/nginx.conf"
		if wait_port "$NG_port" 3 && alive "$NG"; then
			return 0
		fi
		stop_bg "$NG"
	done
	dump "$NG_dir/error.log" "$NG_dir/stderr.log" "$T_TMP/NG.err"
	return 1
}

# nginx_serves NAME SUBJECT: the client NAME (mutls client) got 200 and
# nginx's line "SUBJECT SUCCESS".
nginx_serves() {
	local name=$1 subject=$2
	need "mutls client exited with $MC_RC" test "$MC_RC" -eq 0
	need "no 200 from nginx" has "$T_TMP/$name.out" $'^HTTP/1\\.1 200 OK\r$'
	need "nginx did not say '$subject SUCCESS'" has "$T_TMP/$name.out" "^$subject SUCCESS\$"
}
# curl_served NAME SUBJECT: the same, for curl_get.
curl_served() {
	local name=$1 subject=$2
	need "curl exited with $CURL_RC" test "$CURL_RC" -eq 0
	need "no 200" has "$T_TMP/$name.out" $'^HTTP/1\\.1 200 OK\r$'
	need "the page does not say '$subject SUCCESS'" has "$T_TMP/$name.out" "^$subject SUCCESS\$"
}

have_nginx=
[ -x /usr/sbin/nginx ] && have_nginx=1
[ -n "$have_nginx" ] || skip ca_peers.nginx "no /usr/sbin/nginx (apt-get install nginx-light)"

# ---- a. nginx: mutls-issued server and client certificates -------------------------------

if [ -n "$have_nginx" ] && start_nginx a "$I/localhost.pem" "$I/localhost.key"; then
	mutls_client ng_billing "$get" "127.0.0.1:$NG_port" "${TRUST[@]}" "${as_billing[@]}"
	nginx_serves ng_billing CN=billing
	need "mutls client did not verify nginx's certificate CN=localhost from CN=ca peers CA" \
		has "$T_TMP/ng_billing.err" '^mutls client: server certificate verified: subject=CN=localhost issuer=CN=ca peers CA '
	verdict ca_peers.nginx_serves_mutls_client "$T_TMP/ng_billing.out" "$T_TMP/ng_billing.err" "$NG_dir/error.log"

	mutls_client ng_edge "$get" "127.0.0.1:$NG_port" "${TRUST[@]}" "${as_edge[@]}"
	nginx_serves ng_edge CN=edge
	verdict ca_peers.nginx_serves_ed25519_client "$T_TMP/ng_edge.out" "$T_TMP/ng_edge.err" "$NG_dir/error.log"

	# Before it is revoked, leaver is served like the others.
	curl_get ng_curl_leaver "$NG_port" --cert "$I/leaver.pem" --key "$I/leaver.key"
	curl_served ng_curl_leaver CN=leaver
	verdict ca_peers.nginx_serves_curl "$T_TMP/ng_curl_leaver.out" "$T_TMP/ng_curl_leaver.err"
	stop_bg "$NG"
elif [ -n "$have_nginx" ]; then
	fail ca_peers.nginx_serves_mutls_client "nginx did not start"
fi

# ---- b. revocation ------------------------------------------------------------------------

cp "$I/leaver.pem" "$T_TMP/leaver-before.pem"
if ca revoke "$A" "$I/leaver.pem" --reason cessationOfOperation && ca crl "$A"; then
	need "the CRL does not list leaver's serial" \
		sh -c "openssl crl -in '$A/crl.pem' -noout -text | grep -q 'Serial Number: $(serial_of "$I/leaver.pem")'"
	need "openssl verify -crl_check accepted the revoked certificate" \
		sh -c "! openssl verify -CAfile '$A/ca.pem' -CRLfile '$A/crl.pem' -crl_check -purpose sslclient '$I/leaver.pem' >/dev/null 2>&1"
	need "openssl verify -crl_check refused billing" \
		ossl_verify -CAfile "$A/ca.pem" -CRLfile "$A/crl.pem" -crl_check -purpose sslclient "$I/billing.pem"
	verdict ca_peers.crl_lists_the_revoked "$T_TMP/ca.log"
	revoked=1
else
	fail ca_peers.crl_lists_the_revoked "mutls ca revoke or crl failed"
	dump "$T_TMP/ca.log"
	revoked=
fi

if [ -n "$revoked" ] && [ -n "$have_nginx" ] &&
	start_nginx b "$I/localhost.pem" "$I/localhost.key" "ssl_crl $A/crl.pem;"; then
	# nginx refuses at the HTTP level: 400 and its log says why.
	mutls_client ng_revoked "$get" "127.0.0.1:$NG_port" "${TRUST[@]}" "${as_leaver[@]}"
	need "no 400 for the revoked client" has "$T_TMP/ng_revoked.out" $'^HTTP/1\\.1 400 Bad Request\r$'
	need "nginx served the revoked client" hasnt "$T_TMP/ng_revoked.out" 'SUCCESS'
	need "nginx did not log 'certificate revoked'" \
		wait_line "$NG_dir/error.log" 'client SSL certificate verify error: \(23:certificate revoked\)' 5
	verdict ca_peers.nginx_crl_refuses_revoked "$T_TMP/ng_revoked.out" "$NG_dir/error.log"

	curl_get ng_curl_revoked "$NG_port" --cert "$I/leaver.pem" --key "$I/leaver.key"
	need "curl exited with $CURL_RC" test "$CURL_RC" -eq 0
	need "no 400 for the revoked client (curl)" has "$T_TMP/ng_curl_revoked.out" $'^HTTP/1\\.1 400 Bad Request\r$'
	verdict ca_peers.nginx_crl_refuses_revoked_curl "$T_TMP/ng_curl_revoked.out"

	mutls_client ng_crl_billing "$get" "127.0.0.1:$NG_port" "${TRUST[@]}" "${as_billing[@]}"
	nginx_serves ng_crl_billing CN=billing
	verdict ca_peers.nginx_crl_serves_the_others "$T_TMP/ng_crl_billing.out" "$NG_dir/error.log"
	stop_bg "$NG"
elif [ -n "$revoked" ] && [ -n "$have_nginx" ]; then
	fail ca_peers.nginx_crl_refuses_revoked "nginx did not start with ssl_crl"
fi

# A mutls server with the CRL, from here on: the revoked client is refused
# with certificate_revoked, on both sides.
crl_opt=()
[ -n "$revoked" ] && crl_opt=(--crl "$A/crl.pem")
declare -A seen=()
# mark VAR: remember how many lines the server VAR has logged.
mark() { seen[$1]=$(grep -c '^mutls server: ' "$T_TMP/$1.err" 2>/dev/null); }
# next_logged VAR REGEX: the server VAR's first line after the mark matches.
next_logged() { logged "$1" $((${seen[$1]:-0} + 1)) "$2"; }

if start_mutls_server MS --http --cert "$I/localhost.pem" --key "$I/localhost.key" \
	--client-ca "$A/ca.pem" --client-auth require "${crl_opt[@]}"; then
	if [ -n "$revoked" ]; then
		mark MS
		mutls_client ms_revoked "$get" "127.0.0.1:$MS_port" "${TRUST[@]}" "${as_leaver[@]}"
		need "the revoked client exited with $MC_RC, not 1" test "$MC_RC" -eq 1
		need "the client did not get certificate_revoked" \
			has "$T_TMP/ms_revoked.err" '^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: certificate_revoked\)'
		need "the server did not log 'failed MUTLS_E_CERT_REVOKED alert_sent=certificate_revoked: the certificate for CN=leaver ... was revoked'" \
			next_logged MS ' failed MUTLS_E_CERT_REVOKED alert_sent=certificate_revoked: the certificate for CN=leaver .*was revoked'
		verdict ca_peers.mutls_server_crl_refuses_revoked "$T_TMP/ms_revoked.err" "$T_TMP/MS.err"
	fi

	# ---- d. other clients with mutls-issued certificates ----------------------------------

	mark MS
	mutls_client ms_billing "$get" "127.0.0.1:$MS_port" "${TRUST[@]}" "${as_billing[@]}"
	need "mutls client exited with $MC_RC" test "$MC_RC" -eq 0
	need "the page does not show spiffe://peers.test/billing/api" \
		has "$T_TMP/ms_billing.out" '^client spiffe id: spiffe://peers\.test/billing/api$'
	need "the server did not log client=spiffe://peers.test/billing/api" \
		next_logged MS ' ok TLSv1\.3 .* client=spiffe://peers\.test/billing/api resumed=no http=200 '
	verdict ca_peers.mutls_client_to_mutls_server "$T_TMP/ms_billing.err" "$T_TMP/MS.err"

	mark MS
	curl_get ms_curl "$MS_port" --cert "$I/billing.pem" --key "$I/billing.key"
	need "curl exited with $CURL_RC" test "$CURL_RC" -eq 0
	need "no 200" has "$T_TMP/ms_curl.out" $'^HTTP/1\\.1 200 OK\r$'
	need "the page does not show spiffe://peers.test/billing/api" \
		has "$T_TMP/ms_curl.out" '^client spiffe id: spiffe://peers\.test/billing/api$'
	need "the server did not log client=spiffe://peers.test/billing/api" \
		next_logged MS ' ok TLSv1\.3 .* client=spiffe://peers\.test/billing/api resumed=no http=200 '
	verdict ca_peers.curl_to_mutls_server "$T_TMP/ms_curl.out" "$T_TMP/ms_curl.err" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail ca_peers.mutls_client_to_mutls_server "mutls server did not start"
fi

# gnutls-cli and Go are echo clients: an --echo server.
if start_mutls_server ES --cert "$I/localhost.pem" --key "$I/localhost.key" \
	--client-ca "$A/ca.pem" --client-auth require "${crl_opt[@]}"; then
	for who in billing edge; do
		mark ES
		echo_client "$T_TMP/gnutls_$who.out" "hello-gnutls-$who" gnutls-cli -p "$ES_port" \
			--x509cafile "$A/ca.pem" --verify-hostname localhost --sni-hostname localhost \
			--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' \
			--x509certfile "$I/$who.pem" --x509keyfile "$I/$who.key" 127.0.0.1
		rc=$?
		need "gnutls-cli exited with $rc" test $rc -eq 0
		need "no echo" has "$T_TMP/gnutls_$who.out" "^hello-gnutls-$who\$"
		need "the server did not log client=spiffe://peers.test/... for $who" \
			next_logged ES " ok TLSv1\\.3 .* client=${id_re[$who]} resumed=no "
		verdict "ca_peers.gnutls_client_$who" "$T_TMP/gnutls_$who.out" "$T_TMP/ES.err"
	done

	if build_gopeer; then
		for who in billing edge; do
			mark ES
			timeout "$T_TIMEOUT" "$GOPEER" client -connect "127.0.0.1:$ES_port" -servername localhost \
				-cacert "$A/ca.pem" -cert "$I/$who.pem" -key "$I/$who.key" -send "hello-go-$who" \
				>"$T_TMP/go_$who.out" 2>&1
			rc=$?
			need "gopeer exited with $rc" test $rc -eq 0
			need "no reply=hello-go-$who" has "$T_TMP/go_$who.out" "^reply=hello-go-$who\$"
			need "the server did not log client=spiffe://peers.test/... for $who" \
				next_logged ES " ok TLSv1\\.3 .* client=${id_re[$who]} resumed=no "
			verdict "ca_peers.go_client_$who" "$T_TMP/go_$who.out" "$T_TMP/ES.err"
		done
	else
		fail ca_peers.go_client_billing "could not build tests/interop/gopeer"
	fi
	stop_bg "$ES"
else
	fail ca_peers.gnutls_client_billing "mutls server did not start"
fi

# Go's server, requiring a client certificate from the CA: mutls client.
if [ -n "${GOPEER:-}" ] && [ -x "$GOPEER" ]; then
	start_bg GP "$GOPEER" server -listen 127.0.0.1:0 -cert "$I/localhost.pem" \
		-key "$I/localhost.key" -clientca "$A/ca.pem" -clientauth require
	if wait_line "$T_TMP/GP.out" '^listening on ' 5; then
		line=$(grep -m1 '^listening on ' "$T_TMP/GP.out")
		mutls_client go_server $'hello-go-server\n' "127.0.0.1:${line##*:}" "${TRUST[@]}" "${as_billing[@]}"
		need "mutls client exited with $MC_RC" test "$MC_RC" -eq 0
		need "Go did not name the client CN=billing, spiffe://peers.test/billing/api" \
			has "$T_TMP/go_server.out" '^client=CN=billing uri=spiffe://peers\.test/billing/api$'
		need "no echo" has "$T_TMP/go_server.out" '^hello-go-server$'
		verdict ca_peers.go_server_accepts_mutls_client "$T_TMP/go_server.out" "$T_TMP/go_server.err" "$T_TMP/GP.err"
	else
		fail ca_peers.go_server_accepts_mutls_client "gopeer server did not start"
		dump "$T_TMP/GP.err"
	fi
	stop_bg "$GP"
fi

# ---- c. renewal ------------------------------------------------------------------------------

# A mutls server runs on a copy of the server certificate and key from
# before the renewal; the renewed pair is renamed over that copy and the
# server gets SIGHUP.
S=$T_TMP/srv
mkdir -p "$S"
# put SRC NAME: SRC copied to $S/NAME through a temporary name and a rename.
put() { cp "$1" "$S/.$2.tmp" && mv -f "$S/.$2.tmp" "$S/$2"; }
put "$I/localhost.pem" server.pem
put "$I/localhost.key" server.key
cp "$I/billing.pem" "$T_TMP/billing-before.pem"
cp "$I/localhost.pem" "$T_TMP/localhost-before.pem"
old_billing_serial=$(serial_of "$I/billing.pem")
if ! start_mutls_server RS --http --cert "$S/server.pem" --key "$S/server.key" \
	--client-ca "$A/ca.pem" --client-auth require "${crl_opt[@]}"; then
	fail ca_peers.renew "mutls server did not start"
fi

if ca renew "$A" "$I/billing.pem" && ca renew "$A" "$I/localhost.pem" --rekey; then
	need "the renewed billing.pem has the old serial" \
		test "$(serial_of "$I/billing.pem")" != "$old_billing_serial"
	need "the renewed billing.pem is not for the same key" \
		test "$(openssl x509 -in "$I/billing.pem" -noout -pubkey)" = \
		"$(openssl x509 -in "$T_TMP/billing-before.pem" -noout -pubkey)"
	need "the renewed localhost.pem is for the old key (--rekey)" \
		test "$(openssl x509 -in "$I/localhost.pem" -noout -pubkey)" != \
		"$(openssl x509 -in "$T_TMP/localhost-before.pem" -noout -pubkey)"
	need "openssl verify refused the renewed billing.pem" \
		ossl_verify -CAfile "$A/ca.pem" -purpose sslclient "$I/billing.pem"
	need "openssl verify refused the renewed localhost.pem" \
		ossl_verify -CAfile "$A/ca.pem" -purpose sslserver "$I/localhost.pem"
	verdict ca_peers.renew "$T_TMP/ca.log"
	renewed=1
else
	fail ca_peers.renew "mutls ca renew failed"
	dump "$T_TMP/ca.log"
	renewed=
fi
fp_server=$(sha256_of "$I/localhost.pem")
fp_billing=$(sha256_of "$I/billing.pem")

if [ -n "$renewed" ] && [ -n "$have_nginx" ] &&
	start_nginx c "$I/localhost.pem" "$I/localhost.key" "${revoked:+ssl_crl $A/crl.pem;}"; then
	mutls_client ng_renewed "$get" "127.0.0.1:$NG_port" "${TRUST[@]}" "${as_billing[@]}"
	nginx_serves ng_renewed CN=billing
	need "mutls client did not see nginx's renewed certificate" \
		has "$T_TMP/ng_renewed.err" "^mutls client: server certificate verified: .* sha256=$fp_server\$"
	need "mutls client did not send the renewed certificate" \
		has "$T_TMP/ng_renewed.err" "^mutls client: client certificate sent: .* sha256=$fp_billing\$"
	curl_get ng_curl_renewed "$NG_port" --cert "$I/billing.pem" --key "$I/billing.key"
	curl_served ng_curl_renewed CN=billing
	verdict ca_peers.nginx_accepts_renewed "$T_TMP/ng_renewed.out" "$T_TMP/ng_renewed.err" \
		"$T_TMP/ng_curl_renewed.err" "$NG_dir/error.log"
	stop_bg "$NG"
elif [ -n "$renewed" ] && [ -n "$have_nginx" ]; then
	fail ca_peers.nginx_accepts_renewed "nginx did not start"
fi

if [ -n "$renewed" ] && [ -n "${RS:-}" ] && alive "$RS"; then
	put "$I/localhost.pem" server.pem
	put "$I/localhost.key" server.key
	kill -HUP "$(child_of "$RS")"
	need "the server did not log 'reloaded configuration (certificate CN=localhost ... sha256=$fp_server)'" \
		wait_line "$T_TMP/RS.err" "^mutls server: reloaded configuration \\(certificate CN=localhost expires .*sha256=$fp_server\\)\$" 10
	verdict ca_peers.mutls_server_reloads_renewed "$T_TMP/RS.err"

	mark RS
	mutls_client rs_renewed "$get" "127.0.0.1:$RS_port" "${TRUST[@]}" "${as_billing[@]}"
	need "mutls client exited with $MC_RC" test "$MC_RC" -eq 0
	need "mutls client did not see the renewed server certificate" \
		has "$T_TMP/rs_renewed.err" "^mutls client: server certificate verified: .* sha256=$fp_server\$"
	need "the page does not show the renewed client certificate" \
		has "$T_TMP/rs_renewed.out" "^client certificate sha256: $fp_billing\$"
	need "the server did not log client=spiffe://peers.test/billing/api" \
		next_logged RS ' ok TLSv1\.3 .* client=spiffe://peers\.test/billing/api resumed=no http=200 '
	verdict ca_peers.mutls_server_accepts_renewed "$T_TMP/rs_renewed.out" "$T_TMP/rs_renewed.err" "$T_TMP/RS.err"

	# The certificate from before the renewal is still valid (renew does not
	# revoke): same key, accepted too.
	mutls_client rs_before "$get" "127.0.0.1:$RS_port" "${TRUST[@]}" \
		--cert "$T_TMP/billing-before.pem" --key "$I/billing.key"
	need "the pre-renewal certificate was refused (exit $MC_RC)" test "$MC_RC" -eq 0
	verdict ca_peers.mutls_server_accepts_pre_renewal "$T_TMP/rs_before.err" "$T_TMP/RS.err"

	curl_get rs_curl "$RS_port" --cert "$I/billing.pem" --key "$I/billing.key"
	need "curl exited with $CURL_RC" test "$CURL_RC" -eq 0
	need "no 200 for curl" has "$T_TMP/rs_curl.out" $'^HTTP/1\\.1 200 OK\r$'
	need "curl's page does not show the renewed client certificate" \
		has "$T_TMP/rs_curl.out" "^client certificate sha256: $fp_billing\$"
	if [ -n "${GOPEER:-}" ] && [ -x "$GOPEER" ]; then
		timeout "$T_TIMEOUT" "$GOPEER" client -connect "127.0.0.1:$RS_port" -servername localhost \
			-cacert "$A/ca.pem" -cert "$I/billing.pem" -key "$I/billing.key" \
			-send $'GET / HTTP/1.0\r\n\r\n' >"$T_TMP/rs_go.out" 2>&1
		rc=$?
		need "gopeer exited with $rc" test $rc -eq 0
		need "gopeer got no 200" has "$T_TMP/rs_go.out" '^reply=HTTP/1\.1 200 OK'
	fi
	verdict ca_peers.renewed_certificates_curl_go "$T_TMP/rs_curl.out" "$T_TMP/rs_curl.err" \
		"$T_TMP/rs_go.out" "$T_TMP/RS.err"
fi
[ -n "${RS:-}" ] && stop_bg "$RS"

# ---- e. an intermediate CA -------------------------------------------------------------------

B=$T_TMP/pki-int
if ca init "$B" --name "ca peers root" --intermediate &&
	ca issue "$B" --server localhost --ip 127.0.0.1 &&
	ca issue "$B" --client billing --uri spiffe://peers.test/billing/api; then
	need "localhost.pem is not leaf + intermediate" \
		test "$(grep -c 'BEGIN CERTIFICATE' "$B/issued/localhost.pem")" -eq 2
	need "openssl verify (root trusted, intermediate untrusted) refused localhost.pem" \
		ossl_verify -CAfile "$B/ca.pem" -untrusted "$B/issued/localhost.pem" -purpose sslserver \
		"$B/issued/localhost.pem"
	need "openssl verify (root trusted, intermediate untrusted) refused billing.pem" \
		ossl_verify -CAfile "$B/ca.pem" -untrusted "$B/issued/billing.pem" -purpose sslclient \
		"$B/issued/billing.pem"
	verdict ca_peers.intermediate_chains_verify "$T_TMP/ca.log"
	int_made=1
else
	fail ca_peers.intermediate_chains_verify "mutls ca init --intermediate or issue failed"
	dump "$T_TMP/ca.log"
	int_made=
fi

if [ -n "$int_made" ] && [ -n "$have_nginx" ]; then
	# start_nginx trusts $A/ca.pem: point A at this CA for the while.
	A_saved=$A
	A=$B
	# The client's chain is two deep: nginx's default ssl_verify_depth is 1.
	if start_nginx e "$B/issued/localhost.pem" "$B/issued/localhost.key" "ssl_verify_depth 2;"; then
		mutls_client ng_int "$get" "127.0.0.1:$NG_port" --cacert "$B/ca.pem" --servername localhost \
			--cert "$B/issued/billing.pem" --key "$B/issued/billing.key"
		nginx_serves ng_int CN=billing
		need "mutls client did not verify nginx's chain (issuer CN=ca peers root intermediate)" \
			has "$T_TMP/ng_int.err" '^mutls client: server certificate verified: subject=CN=localhost issuer=CN=ca peers root intermediate '
		curl_get ng_int_curl "$NG_port" --cert "$B/issued/billing.pem" --key "$B/issued/billing.key"
		curl_served ng_int_curl CN=billing
		verdict ca_peers.intermediate_nginx "$T_TMP/ng_int.out" "$T_TMP/ng_int.err" \
			"$T_TMP/ng_int_curl.err" "$NG_dir/error.log"
		stop_bg "$NG"
	else
		fail ca_peers.intermediate_nginx "nginx did not start"
	fi
	A=$A_saved
fi

if [ -n "$int_made" ] && start_mutls_server IS --cert "$B/issued/localhost.pem" \
	--key "$B/issued/localhost.key" --client-ca "$B/ca.pem" --client-auth require; then
	mark IS
	if [ -n "${GOPEER:-}" ] && [ -x "$GOPEER" ]; then
		timeout "$T_TIMEOUT" "$GOPEER" client -connect "127.0.0.1:$IS_port" -servername localhost \
			-cacert "$B/ca.pem" -cert "$B/issued/billing.pem" -key "$B/issued/billing.key" \
			-send hello-int >"$T_TMP/int_go.out" 2>&1
		rc=$?
		need "gopeer exited with $rc" test $rc -eq 0
		need "no reply=hello-int" has "$T_TMP/int_go.out" '^reply=hello-int$'
		need "the server did not log client=spiffe://peers.test/billing/api" \
			next_logged IS ' ok TLSv1\.3 .* client=spiffe://peers\.test/billing/api resumed=no '
	fi
	verdict ca_peers.intermediate_go_to_mutls_server "$T_TMP/int_go.out" "$T_TMP/IS.err"
	stop_bg "$IS"
elif [ -n "$int_made" ]; then
	fail ca_peers.intermediate_go_to_mutls_server "mutls server did not start"
fi

finish
