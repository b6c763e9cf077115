#!/usr/bin/env bash
# tests/interop/mtls_client.sh - the mTLS matrix, our client against real
# servers that ask for a client certificate (issue 3):
#   {openssl s_server -Verify 1 / -verify 1, gnutls-serv --require-client-cert
#    --verify-client-cert / --verify-client-cert, Go (gopeer -clientauth
#    require / optional), nginx ssl_verify_client on / optional, Python ssl
#    CERT_REQUIRED / CERT_OPTIONAL}
#   x {right CA, wrong CA, wrong CA with the right CA's name, none, expired,
#      no clientAuth EKU}
# Each case asserts the outcome on both sides: our client's exit status, the
# certificate it sent (or its notice saying why none), and on a refusal the
# alert it received with its sentence; and what the server says (the client
# subject it saw, or why it refused).
#
# What the peers really do (OpenSSL 3.0, GnuTLS 3.7, Go 1.19, nginx 1.22):
#   - The wrong CA (client-other.pem, from CN=mutls other CA): every server
#     but Python names its client CAs (certificate_authorities), so our
#     client sends no certificate and says "the server accepts client
#     certificates issued by CN=mutls test CA; ours is issued by CN=mutls
#     other CA". Python's server names none, so it gets the certificate and
#     answers unknown_ca.
#   - To make the others judge a certificate from a wrong CA, the test makes
#     an impostor CA with the same name (CN=mutls test CA, another key): our
#     client sends its leaf, OpenSSL and Python answer unknown_ca, GnuTLS
#     access_denied, Go bad_certificate, nginx HTTP 400.
#   - Go 1.19 answers bad_certificate to every refusal, a missing
#     certificate included (certificate_required came in Go 1.21).
#   - GnuTLS answers access_denied to every certificate it cannot verify and
#     does not check the clientAuth EKU at all; --require-client-cert alone
#     does not verify the certificate, hence --verify-client-cert with it.
#   - nginx never refuses the handshake: ssl_verify_client refuses at the
#     HTTP level (400 "No required SSL certificate was sent" or "The SSL
#     certificate error"), so our client exits 0 and prints that page.
#   - s_server accepts any certificate without -verify_return_error: the
#     cases use it.
#   - s_server -no_ca_names sends an empty certificate_authorities list,
#     which RFC 8446 4.2.4 forbids (<3..2^16-1>); our client refuses it with
#     decode_error (asserted below; openssl/openssl#32211).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
mk_tmp
have_mutls || finish
P=$T_TMP/pki
make_certs "$P" || {
	fail mtls_client.make_certs "could not make the test certificates"
	finish
}

# An impostor CA: the same subject as ca.pem, another key, and a client
# certificate from it. Our client picks a certificate by its issuer's name,
# so it sends this one to a server that names CN=mutls test CA.
mk_impostor() {
	(
		set -e
		cd "$P"
		export OPENSSL_CONF=$PWD/x509.cnf SAN=URI:spiffe://mutls.test/impostor CADB=$PWD/cadb
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out impostor-ca.key 2>/dev/null
		openssl req -new -x509 -config x509.cnf -key impostor-ca.key -subj "/CN=mutls test CA" \
			-extensions ca -set_serial 3 -days 30 -sha256 -out impostor-ca.pem
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client-impostor.key 2>/dev/null
		openssl req -new -x509 -config x509.cnf -key client-impostor.key -subj "/CN=impostor client" \
			-extensions client -set_serial 22 -days 30 -sha256 -CA impostor-ca.pem \
			-CAkey impostor-ca.key -out client-impostor.pem
	) && [ -s "$P/client-impostor.pem" ]
}
mk_impostor || {
	fail mtls_client.make_certs "could not make the impostor CA"
	finish
}

get=$'GET / HTTP/1.0\r\n\r\n'

# The client identities of the matrix: the certificate file (none: no --cert),
# its subject and issuer as our client prints them.
declare -A id_file=([right]=client [wrong_ca]=client-other [impostor_ca]=client-impostor
	[none]="" [expired]=client-expired [no_eku]=client-noeku)
declare -A id_subject=([right]="CN=mutls test client" [wrong_ca]="CN=other client"
	[impostor_ca]="CN=impostor client" [expired]="CN=expired client" [no_eku]="CN=noeku client")
declare -A id_issuer=([right]="CN=mutls test CA" [wrong_ca]="CN=mutls other CA"
	[impostor_ca]="CN=mutls test CA" [expired]="CN=mutls test CA" [no_eku]="CN=mutls test CA")

# The sentence our client gives for each alert a server refuses us with.
declare -A why=(
	[certificate_required]="the server requires a client certificate and none was sent"
	[unknown_ca]="the server does not trust the CA that issued our certificate"
	[certificate_expired]="the peer says our certificate has expired or is not yet valid; renew it or check the clocks"
	[unsupported_certificate]="the peer cannot use our certificate for this purpose"
	[bad_certificate]="the server rejected our client certificate"
	[access_denied]="the peer refuses our identity: its policy does not allow it"
)
note_none='the server asked for a client certificate and none is configured; give one with mutls client --cert --key'
note_excluded='no client certificate was sent: the server accepts client certificates issued by CN=mutls test CA; ours is issued by CN=mutls other CA'

# ---- log slices: what a long-running server said during one case ---------
declare -A T_MARK=()
# log_mark FILE...: remembers where each FILE ends now.
log_mark() {
	local f
	for f in "$@"; do
		T_MARK[$f]=$(stat -c %s "$f" 2>/dev/null || echo 0)
	done
}
# log_since OUT FILE...: what the FILEs got since log_mark, in OUT.
log_since() {
	local out=$1 f
	shift
	: >"$out"
	for f in "$@"; do
		tail -c +$((${T_MARK[$f]:-0} + 1)) "$f" >>"$out" 2>/dev/null
	done
}
# said REGEX: the current server's page (our stdout) or what its logs got
# since the case began match REGEX; waits up to 5 s, the server may log
# after our client is gone. "!REGEX": neither matches (no wait).
said() {
	local re=$1 i=0 out=$T_TMP/said.out
	if [ "${re:0:1}" = "!" ]; then
		log_since "$out" "${SRV_LOGS[@]}"
		cat "$T_TMP/mc.out" >>"$out"
		hasnt "$out" "${re:1}"
		return
	fi
	while [ $i -lt 100 ]; do
		log_since "$out" "${SRV_LOGS[@]}"
		cat "$T_TMP/mc.out" >>"$out"
		has "$out" "$re" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# ---- the servers ----------------------------------------------------------
# Each start_PEER MODE starts one server for all the cases of a mode and
# sets SRV (its PID), SRV_port and SRV_LOGS (the files it writes to).
SRV=
SRV_port=
SRV_LOGS=()

start_openssl() {
	local v=-Verify
	[ "$1" = optional ] && v=-verify
	start_openssl_server OS -tls1_3 -www -cert "$P/server-p256.pem" -key "$P/server-p256.key" \
		-CAfile "$P/ca.pem" $v 1 -verify_return_error || return 1
	SRV=$OS SRV_port=$OS_port SRV_LOGS=("$T_TMP/OS.out" "$T_TMP/OS.err")
}

# gnutls-serv cannot listen on port 0 and say where: ask the kernel for a
# free port, and try another if someone took it in between.
start_gnutls() {
	local _ args=(--verify-client-cert)
	[ "$1" = require ] && args=(--require-client-cert --verify-client-cert)
	for _ in 1 2 3; do
		SRV_port=$(free_port)
		start_bg GS gnutls-serv -p "$SRV_port" --http --x509certfile "$P/server-p256.pem" \
			--x509keyfile "$P/server-p256.key" --x509cafile "$P/ca.pem" \
			--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' "${args[@]}"
		if wait_line "$T_TMP/GS.err" "listening on IPv4 .* port $SRV_port\.\.\.done" 5 &&
			wait_port "$SRV_port" 1 && alive "$GS"; then
			SRV=$GS SRV_LOGS=("$T_TMP/GS.out" "$T_TMP/GS.err")
			return 0
		fi
		stop_bg "$GS"
	done
	return 1
}

start_go() {
	local line
	start_bg GP "$GOPEER" server -listen 127.0.0.1:0 -http -cert "$P/server-p256.pem" \
		-key "$P/server-p256.key" -clientca "$P/ca.pem" -clientauth "$1"
	SRV=$GP
	wait_line "$T_TMP/GP.out" '^listening on ' 5 || return 1
	line=$(grep -m1 '^listening on ' "$T_TMP/GP.out")
	SRV_port=${line##*:} SRV_LOGS=("$T_TMP/GP.err")
}

# nginx in the foreground, one process, everything it writes in the temp dir.
start_nginx() {
	local _ d=$T_TMP/nginx-$1 verify=on
	[ "$1" = optional ] && verify=optional
	mkdir -p "$d"
	for _ in 1 2 3; do
		SRV_port=$(free_port)
		cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 64; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	server {
		listen 127.0.0.1:$SRV_port ssl;
		ssl_protocols TLSv1.3;
		ssl_certificate $P/server-p256.pem;
		ssl_certificate_key $P/server-p256.key;
		ssl_client_certificate $P/ca.pem;
		ssl_verify_client $verify;
		location / {
			default_type text/plain;
			return 200 "nginx: verify=\$ssl_client_verify subject=\$ssl_client_s_dn\n";
		}
	}
}
EOF
		: >"$d/error.log"
		start_bg NG /usr/sbin/nginx -e "$d/stderr.log" -p "$d" -c "$d/nginx.conf"
		if wait_port "$SRV_port" 3 && alive "$NG"; then
			SRV=$NG SRV_LOGS=("$d/error.log")
			return 0
		fi
		stop_bg "$NG"
	done
	dump "$d/error.log" "$d/stderr.log" "$T_TMP/NG.err"
	return 1
}

start_python() {
	local line m=required
	[ "$1" = optional ] && m=optional
	start_bg PS "$PYTHON" "$HERE/mtls_pyserver.py" "$P/server-p256.pem" "$P/server-p256.key" \
		"$P/ca.pem" "$m"
	SRV=$PS
	wait_line "$T_TMP/PS.out" '^listening on ' 5 || return 1
	line=$(grep -m1 '^listening on ' "$T_TMP/PS.out")
	SRV_port=${line##*:} SRV_LOGS=("$T_TMP/PS.err")
}

# ---- one case -------------------------------------------------------------
# client_run IDENT [ARGS...]: our client sends one GET to the current server
# with IDENT's certificate (none: no --cert); mc.out, mc.err, MC_RC.
client_run() {
	local id=$1 cert=()
	shift
	if [ -n "${id_file[$id]}" ]; then
		cert=(--cert "$P/${id_file[$id]}.pem" --key "$P/${id_file[$id]}.key")
	fi
	log_mark "${SRV_LOGS[@]}"
	mutls_client mc "${INPUT-$get}" "127.0.0.1:$SRV_port" --servername localhost \
		--cacert "$P/ca.pem" "${cert[@]}" "$@"
}

# mtls_case NAME IDENT CA_NAMES OUTCOME SERVER_SAYS: one connection, IDENT
# as above; CA_NAMES is yes when the server names its client CAs. OUTCOME:
#   ok           exit 0, the server's page names the client (SERVER_SAYS)
#   anon         exit 0, the server took us without a certificate
#   400nocert    nginx: handshake done, then "400 No required SSL certificate was sent"
#   400certerr   nginx: handshake done, then "400 The SSL certificate error"
#   ALERT        exit 1: "handshake failed: MUTLS_E_PEER_ALERT (alert
#                received: ALERT): the peer sent the alert ALERT: <why>"
# SERVER_SAYS is an extended regex for the page plus what the server logged
# during the case ("!RE": must not appear).
mtls_case() {
	local name=$1 id=$2 ca_names=$3 outcome=$4 says=$5 note
	client_run "$id"
	# What our client says about its certificate.
	if [ "$id" = none ]; then
		note=$note_none
	elif [ "$id" = wrong_ca ] && [ "$ca_names" = yes ]; then
		note=$note_excluded
	else
		note="client certificate sent: subject=${id_subject[$id]} issuer=${id_issuer[$id]} "
	fi
	need "no '${note//\\/}'" has "$T_TMP/mc.err" "^mutls client: $note"
	case $outcome in
	ok | anon | 400nocert | 400certerr)
		need "mutls client exited with $MC_RC, not 0" test "$MC_RC" -eq 0
		need "no 'connected to'" has "$T_TMP/mc.err" "^mutls client: connected to 127\.0\.0\.1:$SRV_port \(TLSv1\.3, "
		need "no 'handshake failed'" hasnt "$T_TMP/mc.err" "handshake failed"
		;;
	*)
		need "mutls client exited with $MC_RC, not 1" test "$MC_RC" -eq 1
		need "no 'handshake failed: MUTLS_E_PEER_ALERT (alert received: $outcome): ...: ${why[$outcome]}'" \
			has "$T_TMP/mc.err" "^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: $outcome\): the peer sent the alert $outcome: ${why[$outcome]}"
		# Without a certificate, the failure carries the notice that says why.
		if [ "$id" = none ] || { [ "$id" = wrong_ca ] && [ "$ca_names" = yes ]; }; then
			need "the failure does not end with '(${note//\\/})'" \
				has "$T_TMP/mc.err" "^mutls client: handshake failed: .*\($note\)\$"
		fi
		need "a page on stdout" test ! -s "$T_TMP/mc.out"
		;;
	esac
	case $outcome in
	400nocert)
		need "no '400 No required SSL certificate was sent' page" \
			has "$T_TMP/mc.out" "<title>400 No required SSL certificate was sent</title>"
		;;
	400certerr)
		need "no '400 The SSL certificate error' page" \
			has "$T_TMP/mc.out" "<title>400 The SSL certificate error</title>"
		;;
	esac
	need "the server did not say '$says'" said "$says"
	verdict "$name" "$T_TMP/mc.err" "$T_TMP/mc.out" "$T_TMP/said.out"
}

# matrix PEER CA_NAMES: runs the table rows of PEER (read from stdin:
# "MODE IDENT OUTCOME SERVER_SAYS..."), one server per mode.
matrix() {
	local peer=$1 ca_names=$2 mode id outcome says cur=
	while read -r mode id outcome says; do
		[ -n "$mode" ] && [ "${mode:0:1}" != "#" ] || continue
		if [ "$mode" != "$cur" ]; then
			[ -n "$SRV" ] && stop_bg "$SRV"
			SRV='' SRV_LOGS=()
			cur=$mode
			if ! "start_$peer" "$mode"; then
				fail "mtls_client.$peer.$mode" "$peer server ($mode) did not start"
				dump "${SRV_LOGS[@]}" "$T_TMP"/*.err
				[ -n "$SRV" ] && stop_bg "$SRV"
				SRV=
				continue
			fi
		fi
		[ -n "$SRV" ] || continue
		mtls_case "mtls_client.$peer.$mode.$id" "$id" "$ca_names" "$outcome" "$says"
	done
	[ -n "$SRV" ] && stop_bg "$SRV"
	SRV=
}

# ---- openssl s_server -------------------------------------------------------
# -Verify 1: require; -verify 1: optional; -verify_return_error in both.
matrix openssl yes <<'EOF'
require  right        ok                       Subject: ?CN ?= ?mutls test client
require  wrong_ca     certificate_required     peer did not return a certificate
require  impostor_ca  unknown_ca               verify error:num=20:unable to get local issuer certificate
require  none         certificate_required     peer did not return a certificate
require  expired      certificate_expired      verify error:num=10:certificate has expired
require  no_eku       unsupported_certificate  verify error:num=26:unsuitable certificate purpose
optional right        ok                       Subject: ?CN ?= ?mutls test client
optional wrong_ca     anon                     !^Client certificate
optional impostor_ca  unknown_ca               verify error:num=20:unable to get local issuer certificate
optional none         anon                     !^Client certificate
optional expired      certificate_expired      verify error:num=10:certificate has expired
optional no_eku       unsupported_certificate  verify error:num=26:unsuitable certificate purpose
EOF

# ---- gnutls-serv --------------------------------------------------------------
# require: --require-client-cert --verify-client-cert; optional:
# --verify-client-cert. The page shows the client certificate it got.
matrix gnutls yes <<'EOF'
require  right        ok                    ^\s*Subject: CN=mutls test client$
require  wrong_ca     certificate_required  Error in handshake: Certificate is required
require  impostor_ca  access_denied         Error in handshake: Error in the certificate
require  none         certificate_required  Error in handshake: Certificate is required
require  expired      access_denied         Error in handshake: Error in the certificate
require  no_eku       ok                    ^\s*Subject: CN=noeku client$
optional right        ok                    ^\s*Subject: CN=mutls test client$
optional wrong_ca     anon                  !X\.509 Certificate Information
optional impostor_ca  access_denied         Error in handshake: Error in the certificate
optional none         anon                  !X\.509 Certificate Information
optional expired      access_denied         Error in handshake: Error in the certificate
optional no_eku       ok                    ^\s*Subject: CN=noeku client$
EOF

# ---- Go (gopeer -clientauth) --------------------------------------------------
GO_OK=
if ! build_gopeer; then
	skip mtls_client.go "could not build tests/interop/gopeer (is golang-go installed?)"
elif ! "$GOPEER" server -h 2>&1 | grep -q -- '-clientauth'; then
	skip mtls_client.go "tests/interop/gopeer has no -clientauth flag yet"
else
	GO_OK=1
fi
if [ -n "$GO_OK" ]; then
	matrix go yes <<'EOF'
require  right        ok               ^client=CN=mutls test client uri=spiffe://mutls\.test/client$
require  wrong_ca     bad_certificate  failed: tls: client didn't provide a certificate
require  impostor_ca  bad_certificate  failed: tls: failed to verify client certificate: x509: certificate signed by unknown authority
require  none         bad_certificate  failed: tls: client didn't provide a certificate
require  expired      bad_certificate  failed: tls: failed to verify client certificate: x509: certificate has expired
require  no_eku       bad_certificate  failed: tls: failed to verify client certificate: x509: certificate specifies an incompatible key usage
optional right        ok               ^client=CN=mutls test client uri=spiffe://mutls\.test/client$
optional wrong_ca     anon             ^client=- uri=-$
optional impostor_ca  bad_certificate  failed: tls: failed to verify client certificate: x509: certificate signed by unknown authority
optional none         anon             ^client=- uri=-$
optional expired      bad_certificate  failed: tls: failed to verify client certificate: x509: certificate has expired
optional no_eku       bad_certificate  failed: tls: failed to verify client certificate: x509: certificate specifies an incompatible key usage
EOF
fi

# ---- nginx --------------------------------------------------------------------
# ssl_verify_client on / optional; the page shows $ssl_client_verify and
# $ssl_client_s_dn, error.log says why a request was refused.
if [ -x /usr/sbin/nginx ]; then
	matrix nginx yes <<'EOF'
require  right        ok          ^nginx: verify=SUCCESS subject=CN=mutls test client$
require  wrong_ca     400nocert   client sent no required SSL certificate
require  impostor_ca  400certerr  client SSL certificate verify error: \(21:unable to verify the first certificate\)
require  none         400nocert   client sent no required SSL certificate
require  expired      400certerr  client SSL certificate verify error: \(10:certificate has expired\)
require  no_eku       400certerr  client SSL certificate verify error: \(26:unsuitable certificate purpose\)
optional right        ok          ^nginx: verify=SUCCESS subject=CN=mutls test client$
optional wrong_ca     anon        ^nginx: verify=NONE subject=$
optional impostor_ca  400certerr  client SSL certificate verify error: \(21:unable to verify the first certificate\)
optional none         anon        ^nginx: verify=NONE subject=$
optional expired      400certerr  client SSL certificate verify error: \(10:certificate has expired\)
optional no_eku       400certerr  client SSL certificate verify error: \(26:unsuitable certificate purpose\)
EOF
else
	skip mtls_client.nginx "no /usr/sbin/nginx (apt-get install nginx-light)"
fi

# ---- Python ssl ---------------------------------------------------------------
# CERT_REQUIRED / CERT_OPTIONAL; no certificate_authorities, so our client
# sends the wrong CA's certificate too.
matrix python no <<'EOF'
require  right        ok                       ^pyserver: client_cert=CN=mutls test client$
require  wrong_ca     unknown_ca               failed: .*certificate verify failed: unable to get local issuer certificate
require  impostor_ca  unknown_ca               failed: .*certificate verify failed: unable to get local issuer certificate
require  none         certificate_required     failed: .*PEER_DID_NOT_RETURN_A_CERTIFICATE
require  expired      certificate_expired      failed: .*certificate verify failed: certificate has expired
require  no_eku       unsupported_certificate  failed: .*certificate verify failed: unsuitable certificate purpose
optional right        ok                       ^pyserver: client_cert=CN=mutls test client$
optional wrong_ca     unknown_ca               failed: .*certificate verify failed: unable to get local issuer certificate
optional impostor_ca  unknown_ca               failed: .*certificate verify failed: unable to get local issuer certificate
optional none         anon                     ^pyserver: client_cert=-$
optional expired      certificate_expired      failed: .*certificate verify failed: certificate has expired
optional no_eku       unsupported_certificate  failed: .*certificate verify failed: unsuitable certificate purpose
EOF

# ---- around the matrix ----------------------------------------------------------
# Two identities, and the server's CA list picks: the wrong CA's first, then
# ours. The client sends the second and the server names it.
# two_ids NAME CA_NAMES SERVER_SAYS OUTCOME_ALERT: against the current server.
two_ids() {
	local name=$1 ca_names=$2 says=$3 alert=${4:-}
	client_run none --cert "$P/client-other.pem" --key "$P/client-other.key" \
		--cert "$P/client.pem" --key "$P/client.key"
	need "no 'client certificate sent: one of the 2 given with --cert'" \
		has "$T_TMP/mc.err" "^mutls client: client certificate sent: one of the 2 given with --cert"
	if [ -z "$alert" ]; then
		need "mutls client exited with $MC_RC, not 0" test "$MC_RC" -eq 0
	else
		need "mutls client exited with $MC_RC, not 1" test "$MC_RC" -eq 1
		need "no 'handshake failed: MUTLS_E_PEER_ALERT (alert received: $alert)'" \
			has "$T_TMP/mc.err" "^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: $alert\): the peer sent the alert $alert: ${why[$alert]}"
	fi
	need "the server did not say '$says'" said "$says"
	verdict "$name" "$T_TMP/mc.err" "$T_TMP/mc.out" "$T_TMP/said.out"
}
if start_openssl require; then
	two_ids mtls_client.openssl.ca_list_picks_identity yes "Subject: ?CN ?= ?mutls test client"
	# The same refusal with nothing on stdin: the alert arrives on the first
	# read, after our close_notify, and is still a failed handshake.
	INPUT='' client_run none
	need "mutls client exited with $MC_RC, not 1" test "$MC_RC" -eq 1
	need "no 'handshake failed: ... certificate_required ... none is configured'" \
		has "$T_TMP/mc.err" "^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: certificate_required\): .*\($note_none\)\$"
	verdict mtls_client.openssl.require.none_empty_stdin "$T_TMP/mc.err"
	stop_bg "$SRV"
else
	fail mtls_client.openssl.ca_list_picks_identity "openssl s_server did not start"
fi
SRV=
if [ -n "$GO_OK" ] && start_go require; then
	two_ids mtls_client.go.ca_list_picks_identity yes "^client=CN=mutls test client uri="
	stop_bg "$SRV"
fi
SRV=
# Python names no CA: the first identity whose key can sign goes, and is refused.
if start_python require; then
	two_ids mtls_client.python.no_ca_list_first_identity no \
		"failed: .*unable to get local issuer certificate" unknown_ca
	stop_bg "$SRV"
else
	fail mtls_client.python.no_ca_list_first_identity "python server did not start"
fi
SRV=

# s_server -no_ca_names: an empty certificate_authorities list (RFC 8446
# 4.2.4 says at least one name), refused with decode_error.
if start_openssl_server OS -tls1_3 -www -naccept 1 -cert "$P/server-p256.pem" \
	-key "$P/server-p256.key" -CAfile "$P/ca.pem" -verify 1 -verify_return_error -no_ca_names; then
	SRV=$OS SRV_port=$OS_port SRV_LOGS=("$T_TMP/OS.out" "$T_TMP/OS.err")
	client_run right
	need "mutls client exited with $MC_RC, not 1" test "$MC_RC" -eq 1
	need "no 'handshake failed: MUTLS_E_DECODE (alert sent: decode_error): the server's certificate_authorities is malformed'" \
		has "$T_TMP/mc.err" "^mutls client: handshake failed: MUTLS_E_DECODE \(alert sent: decode_error\): the server's certificate_authorities is malformed"
	need "s_server did not see 'alert decode error'" said "alert decode error"
	verdict mtls_client.openssl.empty_ca_names "$T_TMP/mc.err" "$T_TMP/said.out"
	stop_bg "$OS"
else
	fail mtls_client.openssl.empty_ca_names "openssl s_server did not start"
fi
SRV=

finish
