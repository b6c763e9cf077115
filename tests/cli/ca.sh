#!/usr/bin/env bash
# tests/cli/ca.sh - mutls ca and mutls cert, black box: a CA made with
# `mutls ca init`, certificates from `mutls ca issue` that openssl verify,
# mutls cert check, mutls server/client and curl all accept; revocation
# through `mutls ca revoke` + `mutls ca crl` that the server enforces;
# renewal; the --intermediate variant end to end; list, inspect and expiry;
# and bad input (corrupt PEM, a key that does not match, a directory that
# cannot be written, a duplicate name, an unknown key type) refused with one
# sentence, a non-zero exit, and the files exactly as they were.
# shellcheck source=tests/cli/cli.bash
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
. "$(dirname "$0")/cli.bash"
cli_begin ca

docs=$(cd "$(dirname "$0")/../../docs/cli" 2>/dev/null && pwd)
get=$'GET / HTTP/1.0\r\n\r\n'
D=$T_TMP/pki   # the CA without intermediate
I=$T_TMP/ipki  # the CA with one

# mode FILE: its permission bits, octal ("600").
mode() { stat -c %a "$1"; }
# serial_of FILE: the serial of its first certificate, as openssl prints it.
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
# spki_of FILE: the SHA-256 of the first certificate's public key.
spki_of() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1; }
# count_certs FILE: how many certificates FILE holds.
count_certs() { grep -c -- '-----BEGIN CERTIFICATE-----' "$1"; }
# text_of FILE: openssl's text dump of the first certificate.
text_of() { openssl x509 -in "$1" -noout -text; }
# snapshot DIR: every path under DIR (hidden ones too) with its type and
# mode, then the SHA-256 of every file: equal snapshots, equal trees.
snapshot() {
	(cd "$1" && find . -printf '%y %m %p\n' | sort && find . -type f -exec sha256sum {} + | sort -k2)
}
# ossl_verify NAME PURPOSE CA FILE [ARGS...]: openssl verify, output in
# $T_TMP/NAME.ov; status returned.
# shellcheck disable=SC2317  # called through need and eval
ossl_verify() {
	local name=$1 purpose=$2 ca=$3 file=$4
	shift 4
	openssl verify -purpose "$purpose" -CAfile "$ca" "$@" "$file" >"$T_TMP/$name.ov" 2>&1
}

# ---- help -----------------------------------------------------------------------

for group in ca cert; do
	run_mutls "help-$group" "$group" --help
	need "exit $RC, not 0" test $RC -eq 0
	need "no 'Usage: mutls $group'" has "$T_TMP/help-$group.out" "^Usage: mutls $group SUBCOMMAND"
	need "stderr not empty" empty "$T_TMP/help-$group.err"
	verdict "ca.help_$group" "$T_TMP/help-$group.out" "$T_TMP/help-$group.err"
done
run_mutls help-top --help
need "ca not listed in mutls --help" has "$T_TMP/help-top.out" '^  ca '
need "cert not listed in mutls --help" has "$T_TMP/help-top.out" '^  cert '
verdict ca.listed_in_mutls_help "$T_TMP/help-top.out"

# Every subcommand: --help exits 0 with its usage and examples; every option
# it lists has an example and is in docs/cli/GROUP.md; `mutls GROUP help SUB`
# says the same.
for sub in "ca init" "ca issue" "ca renew" "ca revoke" "ca crl" "ca list" \
	"cert inspect" "cert check" "cert expiry"; do
	read -r group name <<<"$sub"
	run_mutls "help-$group-$name" "$group" "$name" --help
	out=$T_TMP/help-$group-$name.out
	need "exit $RC, not 0" test $RC -eq 0
	need "no 'Usage: mutls $sub'" has "$out" "^Usage: mutls $sub( |\$)"
	need "no examples" has "$out" '^Examples?:'
	need "no exit statuses" has "$out" '^Exit status:'
	listed=$(grep -Eo '^  (-h, )?--[a-z-]+' "$out" | grep -Eo -- '--[a-z-]+')
	examples=$(grep -c '^      Example: ' "$out")
	need "$(echo "$listed" | wc -l) options but $examples examples" \
		test "$examples" -eq $(($(echo "$listed" | wc -l) - 1))
	for o in $listed; do
		need "docs/cli/$group.md does not mention $o" grep -q -- "\`$o" "$docs/$group.md"
	done
	need "docs/cli/$group.md has no section for $name" grep -q "^## mutls $sub\$" "$docs/$group.md"
	run_mutls "help2-$group-$name" "$group" help "$name"
	need "'mutls $group help $name' differs from --help" same "$T_TMP/help2-$group-$name.out" "$out"
	verdict "ca.help_${group}_$name" "$out" "$T_TMP/help-$group-$name.err"
done

# usage_error NAME REGEX ARGS...: exit 2, one line matching REGEX that ends
# with "see mutls ... --help", nothing on stdout.
usage_error() {
	local name=$1 re=$2
	shift 2
	run_mutls "$name" "$@"
	need "exit $RC, not 2" test $RC -eq 2
	need "stderr is not one line matching /$re/" one_sentence "$T_TMP/$name.err" "$re"
	need "stderr does not end with 'see mutls ... --help'" has "$T_TMP/$name.err" 'see mutls .*--help$'
	need "something on stdout" empty "$T_TMP/$name.out"
	verdict "ca.usage_$name" "$T_TMP/$name.err"
}
usage_error no_subcommand '^mutls ca: give a subcommand \(init, issue' ca
usage_error unknown_subcommand "^mutls ca: unknown subcommand 'frob'" ca frob
usage_error cert_unknown "^mutls cert: unknown subcommand 'frob'" cert frob
usage_error issue_both '^mutls ca issue: give exactly one of --server NAME and --client NAME' \
	ca issue "$D" --server a --client b
usage_error client_no_san '^mutls ca issue: --client needs at least one --uri, --dns or --email' \
	ca issue "$D" --client b
usage_error bad_days "^mutls ca init: --days '0': give a whole number of days from 1 to 36500" \
	ca init "$D" --days 0
usage_error bad_purpose "^mutls cert check: --purpose 'peer': choose client or server" \
	cert check x.pem --ca ca.pem --purpose peer
usage_error bad_within "^mutls cert expiry: --within '30m': give a whole number with h, d or w" \
	cert expiry x.pem --within 30m
usage_error bad_reason '^mutls ca revoke: --reason: unknown revocation reason "stolen"' \
	ca revoke "$D" x.pem --reason stolen

# ---- init -----------------------------------------------------------------------

run_mutls init ca init "$D" --name "mutls test CA"
need "exit $RC, not 0" test $RC -eq 0
for f in ca.pem ca.key index.txt crlnumber; do
	need "no $f" test -s "$D/$f"
done
need "no issued/ directory" test -d "$D/issued"
need "ca.key mode $(mode "$D/ca.key" 2>/dev/null), not 600" test "$(mode "$D/ca.key" 2>/dev/null)" = 600
need "ca.pem mode $(mode "$D/ca.pem" 2>/dev/null), not 644" test "$(mode "$D/ca.pem" 2>/dev/null)" = 644
need "no intermediate without --intermediate" test ! -e "$D/intermediate.pem"
need "crlnumber is not 1" test "$(cat "$D/crlnumber" 2>/dev/null)" = 1
need "the index has no line for the root" \
	has "$D/index.txt" "^$(serial_of "$D/ca.pem")	ca	mutls test CA	valid	[0-9-]+T[0-9:]+Z	-	-	ca\\.pem\$"
need "ca.pem is not a self-signed CA for CN=mutls test CA" \
	ossl_verify init_root any "$D/ca.pem" "$D/ca.pem"
need "ca.pem lacks critical CA:TRUE" eval "text_of '$D/ca.pem' | grep -A1 'Basic Constraints: critical' | grep -q 'CA:TRUE'"
need "stdout does not name the files and what ca.pem is for" \
	has "$T_TMP/init.out" "^    $D/ca\\.pem +the root certificate: what peers trust"
need "stdout does not show the root" has "$T_TMP/init.out" '^  root CA: +CN=mutls test CA, ECDSA P-256, serial [0-9A-F]+$'
need "stderr not empty" empty "$T_TMP/init.err"
verdict ca.init "$T_TMP/init.out" "$T_TMP/init.err"

# ---- issue ----------------------------------------------------------------------

run_mutls issue_server ca issue "$D" --server localhost --ip 127.0.0.1 --dns localhost.localdomain
need "exit $RC, not 0" test $RC -eq 0
need "no issued/localhost.pem" test -s "$D/issued/localhost.pem"
need "issued/localhost.key mode $(mode "$D/issued/localhost.key" 2>/dev/null), not 600" \
	test "$(mode "$D/issued/localhost.key" 2>/dev/null)" = 600
need "stdout does not say what was made" has "$T_TMP/issue_server.out" '^issued a server certificate for localhost$'
need "stdout does not show the SANs" \
	has "$T_TMP/issue_server.out" '^  SANs: +DNS:localhost, DNS:localhost\.localdomain, IP:127\.0\.0\.1$'
need "stdout does not show the serial" \
	has "$T_TMP/issue_server.out" "^  serial: +$(serial_of "$D/issued/localhost.pem")\$"
need "stdout does not show 'expires in 90 days'" has "$T_TMP/issue_server.out" '^  expires: .*\(expires in 90 days\)$'
need "openssl verify -purpose sslserver failed: $(cat "$T_TMP/srv.ov" 2>/dev/null)" \
	ossl_verify srv sslserver "$D/ca.pem" "$D/issued/localhost.pem"
text_of "$D/issued/localhost.pem" >"$T_TMP/srv.txt"
need "no serverAuth" has "$T_TMP/srv.txt" 'TLS Web Server Authentication'
need "clientAuth in a server certificate" hasnt "$T_TMP/srv.txt" 'TLS Web Client Authentication'
need "no SAN DNS:localhost, IP:127.0.0.1" has "$T_TMP/srv.txt" 'DNS:localhost, DNS:localhost.localdomain, IP Address:127.0.0.1'
need "no CN=localhost" has "$T_TMP/srv.txt" 'Subject: CN ?= ?localhost$'
need "no critical CA:FALSE" eval "grep -A1 'Basic Constraints: critical' '$T_TMP/srv.txt' | grep -q CA:FALSE"
need "no critical digitalSignature" eval "grep -A1 'Key Usage: critical' '$T_TMP/srv.txt' | grep -q 'Digital Signature'"
need "no key identifiers" eval "has '$T_TMP/srv.txt' 'Subject Key Identifier' && has '$T_TMP/srv.txt' 'Authority Key Identifier'"
need "the index has no line for it" \
	has "$D/index.txt" "^$(serial_of "$D/issued/localhost.pem")	server	localhost	valid	[0-9T:Z-]+	-	-	issued/localhost\\.pem\$"
verdict ca.issue_server "$T_TMP/issue_server.out" "$T_TMP/issue_server.err" "$T_TMP/srv.ov"

run_mutls issue_client ca issue "$D" --client billing --uri spiffe://mutls.test/billing
need "exit $RC, not 0" test $RC -eq 0
need "issued/billing.key mode $(mode "$D/issued/billing.key" 2>/dev/null), not 600" \
	test "$(mode "$D/issued/billing.key" 2>/dev/null)" = 600
need "stdout does not show the SPIFFE ID" has "$T_TMP/issue_client.out" '^  SPIFFE ID: +spiffe://mutls\.test/billing$'
need "stdout does not show clientAuth" has "$T_TMP/issue_client.out" '^  EKU: +clientAuth$'
need "openssl verify -purpose sslclient failed: $(cat "$T_TMP/cli.ov" 2>/dev/null)" \
	ossl_verify cli sslclient "$D/ca.pem" "$D/issued/billing.pem"
text_of "$D/issued/billing.pem" >"$T_TMP/cli.txt"
need "no clientAuth" has "$T_TMP/cli.txt" 'TLS Web Client Authentication'
need "serverAuth in a client certificate" hasnt "$T_TMP/cli.txt" 'TLS Web Server Authentication'
need "no URI SAN" has "$T_TMP/cli.txt" 'URI:spiffe://mutls.test/billing$'
need "no CN=billing" has "$T_TMP/cli.txt" 'Subject: CN ?= ?billing$'
verdict ca.issue_client "$T_TMP/issue_client.out" "$T_TMP/issue_client.err" "$T_TMP/cli.ov"

# Two more clients, to revoke one and keep one; one with --out.
run_mutls issue_alice ca issue "$D" --client alice --uri spiffe://mutls.test/alice --email alice@mutls.test
need "alice: exit $RC" test $RC -eq 0
run_mutls issue_out ca issue "$D" --client bob --dns bob.mutls.test --out "$T_TMP/bob" --key-type ed25519
need "bob (--out): exit $RC" test $RC -eq 0
need "--out: no $T_TMP/bob.pem/.key" eval "test -s '$T_TMP/bob.pem' && test -s '$T_TMP/bob.key'"
need "--out key mode is not 600" test "$(mode "$T_TMP/bob.key" 2>/dev/null)" = 600
need "--key-type ed25519 not used" eval "text_of '$T_TMP/bob.pem' | grep -q ED25519"
need "the index does not record --out's absolute path" has "$D/index.txt" "	bob	valid	.*	$T_TMP/bob\\.pem\$"
need "openssl verify of bob.pem failed" ossl_verify bob sslclient "$D/ca.pem" "$T_TMP/bob.pem"
verdict ca.issue_more "$T_TMP/issue_alice.err" "$T_TMP/issue_out.err" "$T_TMP/issue_out.out"

# ---- mutls cert check agrees with openssl verify -------------------------------------------

# check_case NAME WANT_RC REGEX ARGS...: `mutls cert check ARGS` exits
# WANT_RC with one line on stdout matching REGEX.
check_case() {
	local name=$1 want=$2 re=$3
	shift 3
	run_mutls "$name" cert check "$@"
	need "exit $RC, not $want" test "$RC" -eq "$want"
	need "stdout is not one line matching /$re/" one_sentence "$T_TMP/$name.out" "$re"
	need "stderr not empty" empty "$T_TMP/$name.err"
	verdict "ca.check_$name" "$T_TMP/$name.out" "$T_TMP/$name.err"
}
check_case server_ok 0 '^ok: a mutls peer would accept it \(the certificate for CN=localhost is valid\)$' \
	"$D/issued/localhost.pem" --ca "$D/ca.pem" --purpose server --name localhost
check_case server_by_ip 0 '^ok: a mutls peer would accept it' \
	"$D/issued/localhost.pem" --ca "$D/ca.pem" --purpose server --name 127.0.0.1
check_case client_ok 0 '^ok: a mutls peer would accept it' \
	"$D/issued/billing.pem" --ca "$D/ca.pem" --purpose client
# The server certificate as a client's: openssl says no too.
check_case server_as_client 1 \
	'^refused: MUTLS_E_CERT_UNSUPPORTED \(alert unsupported_certificate\): the certificate for CN=localhost is not allowed for TLS client authentication' \
	"$D/issued/localhost.pem" --ca "$D/ca.pem" --purpose client
need "openssl verify -purpose sslclient accepted the server certificate" \
	eval "! ossl_verify sc sslclient '$D/ca.pem' '$D/issued/localhost.pem'"
need "openssl verify -purpose sslserver accepted the client certificate" \
	eval "! ossl_verify cs sslserver '$D/ca.pem' '$D/issued/billing.pem'"
verdict ca.check_agrees_with_openssl "$T_TMP/sc.ov" "$T_TMP/cs.ov"
check_case wrong_name 1 \
	'^refused: MUTLS_E_CERT_NAME_MISMATCH \(alert bad_certificate\): .*does not match the name api\.example' \
	"$D/issued/localhost.pem" --ca "$D/ca.pem" --purpose server --name api.example

# ---- mutual TLS for real: mutls server, mutls client, curl -------------------------------

as_billing=(--cert "$D/issued/billing.pem" --key "$D/issued/billing.key")
as_alice=(--cert "$D/issued/alice.pem" --key "$D/issued/alice.key")
trust=(--cacert "$D/ca.pem" --servername localhost)
srv=(--http --cert "$D/issued/localhost.pem" --key "$D/issued/localhost.key"
	--client-ca "$D/ca.pem" --client-auth require)

if start_mutls_server SV "${srv[@]}"; then
	mutls_client mtls_ok "$get" "127.0.0.1:$SV_port" "${trust[@]}" "${as_billing[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "no 200" has "$T_TMP/mtls_ok.out" $'^HTTP/1\\.1 200 OK\r$'
	need "the page does not show the SPIFFE ID" \
		has "$T_TMP/mtls_ok.out" '^client spiffe id: spiffe://mutls\.test/billing$'
	need "client did not verify CN=localhost issued by CN=mutls test CA" \
		has "$T_TMP/mtls_ok.err" '^mutls client: server certificate verified: subject=CN=localhost issuer=CN=mutls test CA '
	need "server did not log ok client=spiffe://mutls.test/billing" \
		logged SV 1 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/billing '
	verdict ca.mtls_mutls_client "$T_TMP/mtls_ok.out" "$T_TMP/mtls_ok.err" "$T_TMP/SV.err"

	timeout "$T_TIMEOUT" curl -sS --cacert "$D/ca.pem" --cert "$D/issued/alice.pem" \
		--key "$D/issued/alice.key" --resolve "localhost:$SV_port:127.0.0.1" \
		"https://localhost:$SV_port/" >"$T_TMP/curl.out" 2>"$T_TMP/curl.err"
	rc=$?
	need "curl exited with $rc" test $rc -eq 0
	need "the page does not show alice's SPIFFE ID" \
		has "$T_TMP/curl.out" '^client spiffe id: spiffe://mutls\.test/alice$'
	need "server did not log ok client=spiffe://mutls.test/alice" \
		logged SV 2 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/alice '
	verdict ca.mtls_curl "$T_TMP/curl.out" "$T_TMP/curl.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail ca.mtls_mutls_client "mutls server did not start with the issued certificates"
fi

# ---- revoke + crl -------------------------------------------------------------------

billing_serial=$(serial_of "$D/issued/billing.pem")
run_mutls revoke ca revoke "$D" "$D/issued/billing.pem" --reason keyCompromise
need "exit $RC, not 0" test $RC -eq 0
need "stdout does not say what was revoked" \
	has "$T_TMP/revoke.out" "^revoked the client certificate for billing \\(serial $billing_serial\\) on .* reason keyCompromise\$"
need "the index does not mark it revoked" \
	has "$D/index.txt" "^$billing_serial	client	billing	revoked	[0-9T:Z-]+	[0-9T:Z-]+	keyCompromise	issued/billing\\.pem\$"
verdict ca.revoke "$T_TMP/revoke.out" "$T_TMP/revoke.err"

snapshot "$D" >"$T_TMP/rerevoke.before"
run_mutls rerevoke ca revoke "$D" "$D/issued/billing.pem"
snapshot "$D" >"$T_TMP/rerevoke.after"
need "exit $RC, not 1" test $RC -eq 1
need "stderr is not one 'already revoked' line" one_sentence "$T_TMP/rerevoke.err" \
	'^mutls ca revoke: the certificate for billing \(serial [0-9A-F]+\) was already revoked on .* \(keyCompromise\)$'
need "the CA changed" same "$T_TMP/rerevoke.before" "$T_TMP/rerevoke.after"
verdict ca.revoke_twice "$T_TMP/rerevoke.err"

run_mutls crl ca crl "$D"
need "exit $RC, not 0" test $RC -eq 0
need "no crl.pem" test -s "$D/crl.pem"
need "crlnumber is not 2" test "$(cat "$D/crlnumber" 2>/dev/null)" = 2
openssl crl -in "$D/crl.pem" -noout -text >"$T_TMP/crl.txt" 2>&1
need "the CRL does not list billing's serial" has "$T_TMP/crl.txt" "Serial Number: $billing_serial"
need "the CRL does not say Key Compromise" has "$T_TMP/crl.txt" 'Key Compromise'
need "the CRL is not number 1" eval "grep -A1 'CRL Number' '$T_TMP/crl.txt' | grep -q '^ *1$'"
need "stdout does not say what was written" \
	has "$T_TMP/crl.out" "^wrote $D/crl\\.pem: CRL number 1 from CN=mutls test CA, 1 revoked certificate\$"
need "openssl verify -crl_check accepted the revoked certificate" \
	eval "! ossl_verify crlr sslclient '$D/ca.pem' '$D/issued/billing.pem' -crl_check -CRLfile '$D/crl.pem'"
need "openssl did not say revoked" has "$T_TMP/crlr.ov" 'certificate revoked'
need "openssl verify -crl_check refused alice" \
	ossl_verify crla sslclient "$D/ca.pem" "$D/issued/alice.pem" -crl_check -CRLfile "$D/crl.pem"
verdict ca.crl "$T_TMP/crl.out" "$T_TMP/crl.err" "$T_TMP/crl.txt" "$T_TMP/crlr.ov"

check_case revoked 1 \
	'^refused: MUTLS_E_CERT_REVOKED \(alert certificate_revoked\): the certificate for CN=billing .*was revoked on .*\(keyCompromise\)' \
	"$D/issued/billing.pem" --ca "$D/ca.pem" --purpose client --crl "$D/crl.pem"
check_case not_revoked 0 '^ok: a mutls peer would accept it' \
	"$D/issued/alice.pem" --ca "$D/ca.pem" --purpose client --crl "$D/crl.pem"

if start_mutls_server SV "${srv[@]}" --crl "$D/crl.pem"; then
	mutls_client revoked "$get" "127.0.0.1:$SV_port" "${trust[@]}" "${as_billing[@]}"
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "client did not get certificate_revoked" \
		has "$T_TMP/revoked.err" '^mutls client: handshake failed: MUTLS_E_PEER_ALERT \(alert received: certificate_revoked\)'
	need "something on stdout" empty "$T_TMP/revoked.out"
	need "server did not log 'failed MUTLS_E_CERT_REVOKED alert_sent=certificate_revoked'" \
		logged SV 1 ' failed MUTLS_E_CERT_REVOKED alert_sent=certificate_revoked: .*CN=billing'
	verdict ca.crl_refuses_revoked "$T_TMP/revoked.err" "$T_TMP/SV.err"

	mutls_client unrevoked "$get" "127.0.0.1:$SV_port" "${trust[@]}" "${as_alice[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "server did not log ok client=spiffe://mutls.test/alice" \
		logged SV 2 ' ok TLSv1\.3 .* client=spiffe://mutls\.test/alice '
	verdict ca.crl_admits_others "$T_TMP/unrevoked.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail ca.crl_refuses_revoked "mutls server --crl did not start"
fi

# Revoked, the name is free again: the files are written over.
run_mutls reissue ca issue "$D" --client billing --uri spiffe://mutls.test/billing
need "exit $RC, not 0" test $RC -eq 0
need "the serial did not change" test "$(serial_of "$D/issued/billing.pem")" != "$billing_serial"
need "openssl verify of the new one failed" ossl_verify reissue sslclient "$D/ca.pem" "$D/issued/billing.pem"
verdict ca.reissue_after_revoke "$T_TMP/reissue.out" "$T_TMP/reissue.err"

# ---- renew ------------------------------------------------------------------------------

old_serial=$(serial_of "$D/issued/localhost.pem")
old_spki=$(spki_of "$D/issued/localhost.pem")
run_mutls renew ca renew "$D" "$D/issued/localhost.pem" --days 30
need "exit $RC, not 0" test $RC -eq 0
need "the serial did not change" test "$(serial_of "$D/issued/localhost.pem")" != "$old_serial"
need "the key changed without --rekey" test "$(spki_of "$D/issued/localhost.pem")" = "$old_spki"
need "openssl verify -purpose sslserver of the renewed one failed: $(cat "$T_TMP/renew.ov" 2>/dev/null)" \
	ossl_verify renew sslserver "$D/ca.pem" "$D/issued/localhost.pem"
need "the SANs changed" eval "text_of '$D/issued/localhost.pem' | grep -q 'DNS:localhost, DNS:localhost.localdomain, IP Address:127.0.0.1'"
need "stdout does not say 'expires in 30 days'" has "$T_TMP/renew.out" '^  expires: .*\(expires in 30 days\)$'
need "stdout does not say the old one stays valid" \
	has "$T_TMP/renew.out" "^the old certificate \\(serial $old_serial\\) stays valid until "
need "the index lost the old entry" has "$D/index.txt" "^$old_serial	server	localhost	valid	"
need "the index has no new entry" \
	has "$D/index.txt" "^$(serial_of "$D/issued/localhost.pem")	server	localhost	valid	.*	issued/localhost\\.pem\$"
verdict ca.renew "$T_TMP/renew.out" "$T_TMP/renew.err" "$T_TMP/renew.ov"

run_mutls rekey ca renew "$D" "$D/issued/localhost.pem" --rekey
need "exit $RC, not 0" test $RC -eq 0
need "the key did not change with --rekey" test "$(spki_of "$D/issued/localhost.pem")" != "$old_spki"
need "the new key is not mode 600" test "$(mode "$D/issued/localhost.key")" = 600
need "openssl verify of the rekeyed one failed" ossl_verify rekey sslserver "$D/ca.pem" "$D/issued/localhost.pem"
need "the new key does not match the new certificate" \
	test "$(openssl pkey -in "$D/issued/localhost.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)" = "$(spki_of "$D/issued/localhost.pem")"
verdict ca.renew_rekey "$T_TMP/rekey.out" "$T_TMP/rekey.err"

# The renewed (rekeyed) certificate serves.
if start_mutls_server SV "${srv[@]}"; then
	mutls_client renewed_serves "" "127.0.0.1:$SV_port" "${trust[@]}" "${as_alice[@]}"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "the client did not see the new serial's certificate" \
		has "$T_TMP/renewed_serves.err" "^mutls client: server certificate verified: subject=CN=localhost .*sha256=$(openssl x509 -in "$D/issued/localhost.pem" -outform DER | sha256sum | cut -d' ' -f1)\$"
	verdict ca.renewed_serves "$T_TMP/renewed_serves.err" "$T_TMP/SV.err"
	stop_bg "$SV"
else
	fail ca.renewed_serves "mutls server did not start with the renewed certificate"
fi

# ---- list, inspect, expiry -------------------------------------------------------------

run_mutls list ca list "$D"
need "exit $RC, not 0" test $RC -eq 0
need "no header" has "$T_TMP/list.out" '^NAME +KIND +STATUS +SERIAL +EXPIRES$'
need "the root is not listed valid" has "$T_TMP/list.out" '^mutls test CA +ca +valid +[0-9A-F]+ +expires in 3650 days \('
need "billing's revoked certificate not listed revoked" \
	has "$T_TMP/list.out" "^billing +client +revoked +$billing_serial +expires in 90 days \\(.*\\); revoked .* \\(keyCompromise\\)\$"
need "billing's new certificate not listed valid" \
	has "$T_TMP/list.out" "^billing +client +valid +$(serial_of "$D/issued/billing.pem") +expires in 90 days"
need "not three localhost certificates (issued, renewed, rekeyed)" \
	test "$(grep -c '^localhost  *server  *valid ' "$T_TMP/list.out")" -eq 3
need "the 30-day renewal not shown as 'expires in 30 days'" has "$T_TMP/list.out" '^localhost +server +valid +[0-9A-F]+ +expires in 30 days'
verdict ca.list "$T_TMP/list.out" "$T_TMP/list.err"

run_mutls inspect cert inspect "$D/issued/alice.pem"
need "exit $RC, not 0" test $RC -eq 0
need "no SPIFFE ID" has "$T_TMP/inspect.out" '^  SPIFFE ID: +spiffe://mutls\.test/alice$'
need "no SANs" has "$T_TMP/inspect.out" '^  SANs: +URI:spiffe://mutls\.test/alice, email:alice@mutls\.test$'
need "no EKU clientAuth" has "$T_TMP/inspect.out" '^  EKU: +clientAuth$'
need "no 'expires in 90 days'" has "$T_TMP/inspect.out" '^  not after: .* UTC \(expires in 90 days\)$'
need "no issuer" has "$T_TMP/inspect.out" '^  issuer: +CN=mutls test CA$'
need "no key type" has "$T_TMP/inspect.out" '^  key: +ECDSA P-256$'
need "the fingerprint is not openssl's" \
	has "$T_TMP/inspect.out" "^  sha256: +$(openssl x509 -in "$D/issued/alice.pem" -outform DER | sha256sum | cut -d' ' -f1)\$"
need "the SPKI fingerprint is not openssl's" has "$T_TMP/inspect.out" "^  spki sha256: +$(spki_of "$D/issued/alice.pem")\$"
verdict ca.inspect "$T_TMP/inspect.out" "$T_TMP/inspect.err"

# expiry_case NAME WANT_RC ARGS...: `mutls cert expiry ARGS` exits WANT_RC.
expiry_case() {
	local name=$1 want=$2
	shift 2
	run_mutls "$name" cert expiry "$@"
	need "exit $RC, not $want" test "$RC" -eq "$want"
}
# The 90-day ones: not due within 30d, 2000h (83 days) or 12w (84 days); due
# within 13w (91 days); the 30-day renewal is due within 31d, not 29d.
expiry_case exp_30d 0 "$D/issued/alice.pem" "$D/issued/billing.pem" --within 30d
need "not one ok: line per file" test "$(grep -c '^ok: ' "$T_TMP/exp_30d.out")" -eq 2
need "no 'ok: FILE: CN=alice expires in 90 days'" has "$T_TMP/exp_30d.out" "^ok: $D/issued/alice\\.pem: CN=alice expires in 90 days \\("
expiry_case exp_hours 0 "$D/issued/alice.pem" --within 2000h
expiry_case exp_weeks 0 "$D/issued/alice.pem" --within 12w
expiry_case exp_bare 0 "$D/issued/alice.pem" --within 89
expiry_case exp_due 1 "$D/issued/alice.pem" "$D/issued/billing.pem" --within 13w
need "not two due: lines" test "$(grep -c '^due: ' "$T_TMP/exp_due.out")" -eq 2
expiry_case exp_default 0 "$D/issued/alice.pem" "$D/ca.pem"
verdict ca.expiry_exit_codes "$T_TMP/exp_30d.out" "$T_TMP/exp_due.out" "$T_TMP/exp_default.err"

run_mutls issue_short ca issue "$D" --server short.mutls.test --days 1
expiry_case exp_short 1 "$D/issued/alice.pem" "$D/issued/short.mutls.test.pem" --within 2d --quiet
need "--quiet printed more than the due one" one_sentence "$T_TMP/exp_short.out" \
	"^due: $D/issued/short\\.mutls\\.test\\.pem: CN=short\\.mutls\\.test expires in 1 day \\("
expiry_case exp_short_h 0 "$D/issued/short.mutls.test.pem" --within 12h
verdict ca.expiry_lists_due "$T_TMP/exp_short.out" "$T_TMP/exp_short.err"

# ---- the --intermediate variant, end to end ---------------------------------------------------

run_mutls iinit ca init "$I" --intermediate --name "mutls test CA2" --key-type p384
need "exit $RC, not 0" test $RC -eq 0
need "no intermediate.pem/.key" eval "test -s '$I/intermediate.pem' && test -s '$I/intermediate.key'"
need "intermediate.key mode is not 600" test "$(mode "$I/intermediate.key" 2>/dev/null)" = 600
need "ca.key mode is not 600" test "$(mode "$I/ca.key" 2>/dev/null)" = 600
need "ca.pem is not the root (self-signed)" eval "text_of '$I/ca.pem' | grep -qE 'Issuer: CN ?= ?mutls test CA2\$'"
need "the intermediate is not issued by the root" \
	ossl_verify iinter any "$I/ca.pem" "$I/intermediate.pem"
need "the index has no intermediate line" has "$I/index.txt" '	ca	mutls test CA2 intermediate	valid	.*	intermediate\.pem$'
verdict ca.init_intermediate "$T_TMP/iinit.out" "$T_TMP/iinit.err" "$T_TMP/iinter.ov"

run_mutls iserver ca issue "$I" --server localhost --ip 127.0.0.1
run_mutls iclient ca issue "$I" --client carol --uri spiffe://mutls.test/carol
run_mutls iclient2 ca issue "$I" --client dave --uri spiffe://mutls.test/dave
need "issue failed" eval "test -s '$I/issued/localhost.pem' && test -s '$I/issued/carol.pem' && test -s '$I/issued/dave.pem'"
need "the server chain is not leaf + intermediate" test "$(count_certs "$I/issued/localhost.pem")" -eq 2
need "openssl verify -purpose sslserver -untrusted failed: $(cat "$T_TMP/isrv.ov" 2>/dev/null)" \
	ossl_verify isrv sslserver "$I/ca.pem" "$I/issued/localhost.pem" -untrusted "$I/intermediate.pem"
need "openssl verify -purpose sslclient -untrusted failed" \
	ossl_verify icli sslclient "$I/ca.pem" "$I/issued/carol.pem" -untrusted "$I/issued/carol.pem"
need "the leaf is not issued by the intermediate" \
	eval "text_of '$I/issued/carol.pem' | grep -qE 'Issuer: CN ?= ?mutls test CA2 intermediate\$'"
need "the leaf is valid without the intermediate (it must not be)" \
	eval "! ossl_verify inoint sslclient '$I/ca.pem' '$I/issued/carol.pem'"
verdict ca.issue_intermediate "$T_TMP/iserver.err" "$T_TMP/iclient.err" "$T_TMP/isrv.ov" "$T_TMP/icli.ov"
check_case intermediate_ok 0 '^ok: a mutls peer would accept it' \
	"$I/issued/carol.pem" --ca "$I/ca.pem" --purpose client

run_mutls irevoke ca revoke "$I" "$I/issued/dave.pem" --reason superseded
run_mutls icrl ca crl "$I" --days 2
need "revoke exited $(cat "$T_TMP/irevoke.err")" empty "$T_TMP/irevoke.err"
need "the CRL is not from the intermediate" \
	has "$T_TMP/icrl.out" "^wrote $I/crl\\.pem: CRL number 1 from CN=mutls test CA2 intermediate, 1 revoked certificate\$"
verdict ca.crl_intermediate "$T_TMP/icrl.out" "$T_TMP/icrl.err"

itrust=(--cacert "$I/ca.pem" --servername localhost)
if start_mutls_server IV --http --cert "$I/issued/localhost.pem" --key "$I/issued/localhost.key" \
	--client-ca "$I/ca.pem" --client-auth require --crl "$I/crl.pem"; then
	mutls_client iok "$get" "127.0.0.1:$IV_port" "${itrust[@]}" \
		--cert "$I/issued/carol.pem" --key "$I/issued/carol.key"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "the page does not show carol" has "$T_TMP/iok.out" '^client spiffe id: spiffe://mutls\.test/carol$'
	need "client did not verify a chain issued by the intermediate" \
		has "$T_TMP/iok.err" '^mutls client: server certificate verified: subject=CN=localhost issuer=CN=mutls test CA2 intermediate '
	verdict ca.intermediate_mtls "$T_TMP/iok.out" "$T_TMP/iok.err" "$T_TMP/IV.err"

	timeout "$T_TIMEOUT" curl -sS --cacert "$I/ca.pem" --cert "$I/issued/carol.pem" \
		--key "$I/issued/carol.key" --resolve "localhost:$IV_port:127.0.0.1" \
		"https://localhost:$IV_port/" >"$T_TMP/icurl.out" 2>"$T_TMP/icurl.err"
	rc=$?
	need "curl exited with $rc" test $rc -eq 0
	need "the page does not show carol" has "$T_TMP/icurl.out" '^client spiffe id: spiffe://mutls\.test/carol$'
	verdict ca.intermediate_curl "$T_TMP/icurl.out" "$T_TMP/icurl.err" "$T_TMP/IV.err"

	mutls_client irevoked "$get" "127.0.0.1:$IV_port" "${itrust[@]}" \
		--cert "$I/issued/dave.pem" --key "$I/issued/dave.key"
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "client did not get certificate_revoked" \
		has "$T_TMP/irevoked.err" 'alert received: certificate_revoked'
	need "server did not log MUTLS_E_CERT_REVOKED" \
		logged IV 3 ' failed MUTLS_E_CERT_REVOKED alert_sent=certificate_revoked: .*CN=dave'
	verdict ca.intermediate_crl_refuses_revoked "$T_TMP/irevoked.err" "$T_TMP/IV.err"
	stop_bg "$IV"
else
	fail ca.intermediate_mtls "mutls server did not start with the intermediate's chain"
fi

old_serial=$(serial_of "$I/issued/carol.pem")
run_mutls irenew ca renew "$I" "$I/issued/carol.pem"
need "exit $RC, not 0" test $RC -eq 0
need "the serial did not change" test "$(serial_of "$I/issued/carol.pem")" != "$old_serial"
need "the renewed chain is not leaf + intermediate" test "$(count_certs "$I/issued/carol.pem")" -eq 2
need "openssl verify of the renewed chain failed" \
	ossl_verify irenew sslclient "$I/ca.pem" "$I/issued/carol.pem" -untrusted "$I/issued/carol.pem"
verdict ca.renew_intermediate "$T_TMP/irenew.out" "$T_TMP/irenew.err" "$T_TMP/irenew.ov"

# ---- bad input: one sentence, non-zero, nothing changed ------------------------------------

# bad_input NAME WANT_RC REGEX DIR ARGS...: `mutls ARGS` exits WANT_RC with
# one line on stderr matching REGEX, nothing on stdout, and DIR exactly as
# it was (no file added, removed, changed or left behind, hidden ones too).
bad_input() {
	local name=$1 want=$2 re=$3 dir=$4
	shift 4
	snapshot "$dir" >"$T_TMP/$name.before"
	run_mutls "$name" "$@"
	snapshot "$dir" >"$T_TMP/$name.after"
	need "exit $RC, not $want" test "$RC" -eq "$want"
	need "stderr is not one line matching /$re/" one_sentence "$T_TMP/$name.err" "$re"
	need "something on stdout" empty "$T_TMP/$name.out"
	need "$dir changed: $(diff "$T_TMP/$name.before" "$T_TMP/$name.after" | grep '^[<>]' | head -n 3 | tr '\n' ' ')" \
		same "$T_TMP/$name.before" "$T_TMP/$name.after"
	verdict "ca.bad_$name" "$T_TMP/$name.err" "$T_TMP/$name.out"
}

# Corrupt PEM: base64 garbage inside the armor, and a truncated certificate.
printf -- '-----BEGIN CERTIFICATE-----\nMIIBnotbase64@@@\n-----END CERTIFICATE-----\n' >"$D/corrupt.pem"
head -c 300 "$D/issued/alice.pem" >"$D/truncated.pem"
bad_input corrupt_renew 1 "^mutls ca renew: certificate 1 in $D/corrupt\\.pem does not parse \\(corrupt PEM or DER\\)\$" \
	"$D" ca renew "$D" "$D/corrupt.pem"
bad_input truncated_renew 1 "^mutls ca renew: .*$D/truncated\\.pem" \
	"$D" ca renew "$D" "$D/truncated.pem"
bad_input corrupt_revoke 1 "^mutls ca revoke: certificate 1 in $D/corrupt\\.pem does not parse" \
	"$D" ca revoke "$D" "$D/corrupt.pem"
bad_input corrupt_inspect 1 "^mutls cert inspect: certificate 1 in $D/corrupt\\.pem does not parse" \
	"$D" cert inspect "$D/corrupt.pem"
bad_input corrupt_check 1 "^mutls cert check: certificate 1 in $D/corrupt\\.pem does not parse" \
	"$D" cert check "$D/corrupt.pem" --ca "$D/ca.pem" --purpose client
bad_input corrupt_expiry 1 "^mutls cert expiry: certificate 1 in $D/corrupt\\.pem does not parse" \
	"$D" cert expiry "$D/corrupt.pem"
bad_input key_not_cert 1 "^mutls cert inspect: $D/issued/alice\\.key holds no certificate" \
	"$D" cert inspect "$D/issued/alice.key"

# A key that does not match its certificate: renew refuses, nothing written.
cp "$D/issued/alice.key" "$D/issued/bob-wrong.key"
bad_input mismatched_key 1 \
	"^mutls ca renew: $D/issued/bob-wrong\\.key: the private key does not belong to the certificate for CN=bob" \
	"$D" ca renew "$D" "$T_TMP/bob.pem" --key "$D/issued/bob-wrong.key"
cp "$D/issued/alice.key" "$T_TMP/alice.key.orig"
cp "$D/issued/billing.key" "$D/issued/alice.key"
bad_input mismatched_key_default 1 \
	"^mutls ca renew: $D/issued/alice\\.key: the private key does not belong to the certificate for CN=alice" \
	"$D" ca renew "$D" "$D/issued/alice.pem"
cp "$T_TMP/alice.key.orig" "$D/issued/alice.key"
# ... and a CA key that does not match the CA: issue refuses.
cp "$I/intermediate.key" "$T_TMP/iinter.key.orig"
cp "$I/ca.key" "$I/intermediate.key"
bad_input ca_key_mismatch 1 "^mutls ca issue: $I/intermediate\\.key: the private key does not belong to the certificate for CN=mutls test CA2 intermediate" \
	"$I" ca issue "$I" --server other.mutls.test
cp "$T_TMP/iinter.key.orig" "$I/intermediate.key"

# A directory that cannot be written. We may be root, who ignores modes: a
# path through a regular file fails for everyone (ENOTDIR).
mkdir -p "$T_TMP/w"
: >"$T_TMP/w/file"
bad_input unwritable_init 1 "^mutls ca init: cannot create the directory $T_TMP/w/file/sub: Not a directory\$" \
	"$T_TMP/w" ca init "$T_TMP/w/file/sub"
bad_input unwritable_out 1 "^mutls ca issue: cannot write $T_TMP/w/file/x\\.(pem|key): .*Not a directory\$" \
	"$D" ca issue "$D" --server unwritable.mutls.test --out "$T_TMP/w/file/x"
bad_input no_parent 1 "^mutls ca init: cannot create the directory $T_TMP/w/none/ca: No such file or directory\$" \
	"$T_TMP/w" ca init "$T_TMP/w/none/ca"

# Duplicate names: a still-valid name; an existing CA.
bad_input duplicate_name 1 \
	"^mutls ca issue: alice already has a valid client certificate \\(serial [0-9A-F]+, until .*\\); renew it" \
	"$D" ca issue "$D" --client alice --uri spiffe://mutls.test/alice2
bad_input duplicate_server 1 "^mutls ca issue: localhost already has a valid server certificate" \
	"$D" ca issue "$D" --server localhost
bad_input duplicate_ca 1 "^mutls ca init: $D already holds a CA \\(ca\\.pem exists\\)" \
	"$D" ca init "$D"
# A file in the way that this CA did not write.
echo "not ours" >"$T_TMP/w/foreign.pem"
bad_input foreign_file 1 "^mutls ca issue: $T_TMP/w/foreign\\.pem already exists and is not a certificate this CA issued" \
	"$T_TMP/w" ca issue "$D" --client foreign --dns foreign.mutls.test --out "$T_TMP/w/foreign"

# Unknown key types: a usage error, before anything is made.
bad_input key_type_init 2 '^mutls ca init: --key-type: unknown key type "p512"; use p256, p384, ed25519 or rsa3072; see mutls ca init --help$' \
	"$T_TMP/w" ca init "$T_TMP/w/new" --key-type p512
bad_input key_type_issue 2 '^mutls ca issue: --key-type: unknown key type "dsa"' \
	"$D" ca issue "$D" --server new.mutls.test --key-type dsa

# Certificates the CA cannot stand behind: longer than the CA lives.
bad_input outlives_ca 1 '^mutls ca issue: cannot issue the certificate for long\.mutls\.test: the issuer CN=mutls test CA expires on .*renew the CA first$' \
	"$D" ca issue "$D" --server long.mutls.test --days 36500
# Not ours to renew or revoke: another CA's certificate.
bad_input foreign_renew 1 "^mutls ca renew: $I/issued/carol\\.pem \\(serial [0-9A-F]+, CN=carol\\) was not issued by the CA in $D" \
	"$D" ca renew "$D" "$I/issued/carol.pem"
bad_input foreign_revoke 1 "^mutls ca revoke: $I/issued/carol\\.pem \\(serial [0-9A-F]+\\) is not in the index of the CA in $D" \
	"$D" ca revoke "$D" "$I/issued/carol.pem"
bad_input not_a_ca 1 "^mutls ca issue: $T_TMP/w holds no CA \\(there is no index\\.txt\\)" \
	"$T_TMP/w" ca issue "$T_TMP/w" --server x.mutls.test

# A damaged index: refused, named by line.
cp "$D/index.txt" "$T_TMP/index.orig"
printf 'ZZZ\tserver\tx\tvalid\n' >>"$D/index.txt"
bad_input damaged_index 1 "^mutls ca list: $D/index\\.txt line [0-9]+ is damaged: it does not have the 8 tab-separated fields; repair or remove that line\$" \
	"$D" ca list "$D"
cp "$T_TMP/index.orig" "$D/index.txt"

# A failure after the first rename is undone: crl.pem is a directory, so
# its rename fails after crlnumber's succeeded; crlnumber must be restored.
mv "$D/crl.pem" "$T_TMP/crl.pem.orig"
mkdir "$D/crl.pem"
bad_input rollback 1 "^mutls ca crl: cannot write $D/crl\\.pem: " "$D" ca crl "$D"
rmdir "$D/crl.pem"
mv "$T_TMP/crl.pem.orig" "$D/crl.pem"

finish
