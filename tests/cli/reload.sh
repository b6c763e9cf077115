#!/usr/bin/env bash
# tests/cli/reload.sh - SIGHUP reloads a running mutls server: new files are
# renamed into place, the server gets SIGHUP, and
#   - a connection open meanwhile keeps working and closes cleanly,
#   - new connections see the new certificate (subject and SHA-256 change),
#   - a new client CA file and a new CRL apply to new clients,
#   - a reload that fails (corrupt certificate, key that does not match,
#     missing file) keeps the previous configuration and logs one line why,
#   - under live traffic (streaming clients and a run of short ones) several
#     reloads drop no connection.
# shellcheck source=tests/cli/cli.bash
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
# shellcheck disable=SC2317  # helpers called through `need`
. "$(dirname "$0")/cli.bash"
cli_begin reload pki
# The servers here live through several cases.
T_BG_TIMEOUT=120

# The files the servers are started with; every change renames a new file
# over one of them, as an operator should (a reload never reads half a file).
L=$T_TMP/live
mkdir -p "$L"

# put SRC NAME: copies SRC to a temporary name in $L, then renames it to NAME.
put() {
	cp "$1" "$L/.$2.tmp" && mv -f "$L/.$2.tmp" "$L/$2"
}

# sha256_of FILE: the SHA-256 (hex) of the first certificate in FILE (DER).
sha256_of() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# A third localhost certificate with a subject of its own, so that the
# subject changes too, not only the fingerprint.
# x509.cnf (from make_certs) reads SAN and CADB from the environment.
if ! (
	cd "$P" &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out rotated.key &&
		OPENSSL_CONF=$P/x509.cnf SAN=DNS:localhost,IP:127.0.0.1 CADB=$P/cadb \
			openssl req -new -x509 -config x509.cnf -key rotated.key -subj "/O=rotated/CN=localhost" \
			-extensions server -set_serial 40 -days 30 -sha256 -CA ca.pem -CAkey ca.key \
			-out rotated.pem
) >"$T_TMP/rotated.log" 2>&1; then
	fail reload.make_certs "could not make the rotated certificate"
	dump "$T_TMP/rotated.log"
	finish
fi
fp_p256=$(sha256_of "$P/server-p256.pem")
fp_rotated=$(sha256_of "$P/rotated.pem")

# hup VAR: SIGHUP to the mutls server started as VAR (the process itself,
# not the `timeout` around it), then waits until it logged one more reload
# line ("reloaded configuration" or "reload failed"). Returns 1 if none came.
declare -A RELOADS=()
hup() {
	local var=$1 pid n
	pid=$(child_of "${!var}")
	[ -n "$pid" ] || return 1
	n=$((${RELOADS[$var]:-0} + 1))
	RELOADS[$var]=$n
	kill -HUP "$pid" 2>/dev/null || return 1
	wait_count "$T_TMP/$var.err" '^mutls server: (reloaded configuration|reload failed)' "$n" 10
}

# last_reload VAR: the server's latest reload line.
last_reload() {
	grep -E '^mutls server: (reloaded configuration|reload failed)' "$T_TMP/$1.err" | tail -n 1
}
# last_reload_is VAR REGEX
last_reload_is() { last_reload "$1" | grep -Eq -- "$2"; }

# stream_open VAR ARGS...: `mutls client ARGS` in the background, its stdin a
# FIFO that stays open until stream_close VAR: a connection kept live. Its
# output goes to $T_TMP/VAR.out and .err; VAR_fd is the FIFO's write end.
stream_open() {
	local var=$1 fd
	shift
	mkfifo "$T_TMP/$var.in"
	: >"$T_TMP/$var.out"
	: >"$T_TMP/$var.err"
	timeout 60 "$MUTLS" client "$@" <"$T_TMP/$var.in" >"$T_TMP/$var.out" 2>"$T_TMP/$var.err" &
	printf -v "$var" '%s' "$!"
	T_PIDS="$T_PIDS $!"
	exec {fd}>"$T_TMP/$var.in"
	printf -v "${var}_fd" '%s' "$fd"
}
# stream_send VAR TEXT: one line to the client; waits until it comes back.
stream_send() {
	local fd_var=${1}_fd
	printf '%s\n' "$2" >&"${!fd_var}" && wait_line "$T_TMP/$1.out" "^$2\$" 5
}
# stream_close VAR: ends the client's stdin and waits for it (status in RC).
stream_close() {
	local fd_var=${1}_fd fd
	fd=${!fd_var}
	exec {fd}>&-
	wait_exit "${!1}" 10
}

# server_cert_is NAME SHA256 SUBJECT_REGEX: the client NAME reported a
# verified server certificate with that SHA-256 and a matching subject.
server_cert_is() {
	has "$T_TMP/$1.err" "^mutls client: server certificate verified: subject=$3 issuer=.* sha256=$2\$"
}

# ---- rotation with a live connection ------------------------------------------------

put "$P/server-p256.pem" server.pem
put "$P/server-p256.key" server.key
if start_mutls_server RS --cert "$L/server.pem" --key "$L/server.key"; then
	mutls_client before $'before\n' "127.0.0.1:$RS_port" "${TRUST[@]}"
	need "client exited with $MC_RC" test "$MC_RC" -eq 0
	need "the client did not see server-p256 (CN=localhost, sha256 $fp_p256)" \
		server_cert_is before "$fp_p256" 'CN=localhost'
	verdict reload.before "$T_TMP/before.err" "$T_TMP/RS.err"

	stream_open LIVE "127.0.0.1:$RS_port" "${TRUST[@]}"
	need "the live connection did not echo before the reload" stream_send LIVE "before reload"

	put "$P/rotated.pem" server.pem
	put "$P/rotated.key" server.key
	need "no reload line within 10 s of SIGHUP" hup RS
	need "the reload line is not 'reloaded configuration (certificate CN=localhost,O=rotated expires ..., in 29|30 days, sha256=$fp_rotated)'" \
		last_reload_is RS "^mutls server: reloaded configuration \\(certificate CN=localhost,O=rotated expires [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC, in (29|30) days, sha256=$fp_rotated\\)\$"
	verdict reload.log_line "$T_TMP/RS.err"

	mutls_client after $'after\n' "127.0.0.1:$RS_port" "${TRUST[@]}"
	need "client exited with $MC_RC" test "$MC_RC" -eq 0
	need "no echo" has "$T_TMP/after.out" '^after$'
	need "the new client did not see the new certificate (CN=localhost,O=rotated, sha256 $fp_rotated)" \
		server_cert_is after "$fp_rotated" 'CN=localhost,O=rotated'
	verdict reload.new_connections_get_the_new_certificate "$T_TMP/after.err" "$T_TMP/RS.err"

	# The live connection still has the old config: it echoes, then ends
	# with close_notify on both sides.
	need "the live connection did not echo after the reload" stream_send LIVE "after reload"
	stream_close LIVE
	need "the live client exited with $RC, not 0" test "$RC" -eq 0
	need "the live client had not seen server-p256" server_cert_is LIVE "$fp_p256" 'CN=localhost'
	need "the live client warned or failed" hasnt "$T_TMP/LIVE.err" 'warning|failed'
	need "the server did not log the live connection as ok ... end=close_notify" \
		wait_line "$T_TMP/RS.err" '^mutls server: 127\.0\.0\.1:[0-9]+ ok TLSv1\.3 .* bytes_in=27 bytes_out=27 hrr=no end=close_notify$' 5
	verdict reload.live_connection_keeps_working "$T_TMP/LIVE.out" "$T_TMP/LIVE.err" "$T_TMP/RS.err"

	# ---- reloads that fail keep the previous configuration ----------------------------

	# bad_reload NAME REGEX: after SIGHUP the server logs exactly one
	# 'reload failed, keeping the previous configuration: REGEX' line (and
	# nothing else), and a new client still gets the rotated certificate.
	bad_reload() {
		local name=$1 re=$2 lines
		lines=$(wc -l <"$T_TMP/RS.err")
		need "no reload line within 10 s of SIGHUP" hup RS
		need "the reload line is not 'reload failed, keeping the previous configuration: $re'" \
			last_reload_is RS "^mutls server: reload failed, keeping the previous configuration: $re"
		need "the server logged more than one line for the reload" \
			test "$(wc -l <"$T_TMP/RS.err")" -eq $((lines + 1))
		need "the server stopped" alive "$RS"
		mutls_client "still_$name" $'still\n' "127.0.0.1:$RS_port" "${TRUST[@]}"
		need "a new client exited with $MC_RC" test "$MC_RC" -eq 0
		need "a new client did not get the previous (rotated) certificate" \
			server_cert_is "still_$name" "$fp_rotated" 'CN=localhost,O=rotated'
		verdict "reload.failed_$name" "$T_TMP/still_$name.err" "$T_TMP/RS.err"
	}

	# A corrupt certificate: the PEM armour with garbage inside.
	printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' \
		>"$T_TMP/corrupt.pem"
	put "$T_TMP/corrupt.pem" server.pem
	bad_reload corrupt_certificate '--cert/--key: .+'
	# A certificate that does not go with the key.
	put "$P/server-p384.pem" server.pem
	bad_reload key_does_not_match '--cert/--key: .+'
	# The key file gone.
	put "$P/rotated.pem" server.pem
	rm -f "$L/server.key"
	bad_reload missing_key '--cert/--key: .+'
	# Fixed: the next reload takes.
	put "$P/server-p256.pem" server.pem
	put "$P/server-p256.key" server.key
	need "no reload line within 10 s of SIGHUP" hup RS
	need "the reload line is not 'reloaded configuration (certificate CN=localhost ...sha256=$fp_p256)'" \
		last_reload_is RS "^mutls server: reloaded configuration \\(certificate CN=localhost expires .*sha256=$fp_p256\\)\$"
	mutls_client fixed $'fixed\n' "127.0.0.1:$RS_port" "${TRUST[@]}"
	need "client exited with $MC_RC" test "$MC_RC" -eq 0
	need "the client did not see server-p256 again" server_cert_is fixed "$fp_p256" 'CN=localhost'
	verdict reload.fixed_files_reload "$T_TMP/fixed.err" "$T_TMP/RS.err"
	stop_bg "$RS"
else
	fail reload.before "mutls server did not start"
fi

# ---- client CAs and CRLs ---------------------------------------------------------------

get=$'GET / HTTP/1.0\r\n\r\n'
as_client=(--cert "$P/client.pem" --key "$P/client.key")
as_other=(--cert "$P/client-other.pem" --key "$P/client-other.key")

# A new --client-ca file: clients of the new CA get in, those of the old one
# no longer (unknown_ca); one connected before stays connected.
put "$P/ca.pem" clients.pem
if start_mutls_server CS "${P256[@]}" --client-ca "$L/clients.pem" --client-auth require; then
	mutls_client ca_before $'x\n' "127.0.0.1:$CS_port" "${TRUST[@]}" "${as_client[@]}"
	need "a client of the first CA exited with $MC_RC" test "$MC_RC" -eq 0
	stream_open CLIVE "127.0.0.1:$CS_port" "${TRUST[@]}" "${as_client[@]}"
	need "the live mTLS connection did not echo" stream_send CLIVE "one"
	put "$P/other-ca.pem" clients.pem
	need "no reload line within 10 s of SIGHUP" hup CS
	need "the reload did not succeed" last_reload_is CS '^mutls server: reloaded configuration '
	mutls_client ca_old $'x\n' "127.0.0.1:$CS_port" "${TRUST[@]}" "${as_client[@]}"
	need "a client of the old CA exited with $MC_RC, not 1" test "$MC_RC" -eq 1
	need "the server did not refuse the old CA's client (certificate_required: its CA is no longer listed)" \
		has "$T_TMP/ca_old.err" 'handshake failed: .*certificate_required'
	mutls_client ca_new $'x\n' "127.0.0.1:$CS_port" "${TRUST[@]}" "${as_other[@]}"
	need "a client of the new CA exited with $MC_RC" test "$MC_RC" -eq 0
	need "the live mTLS connection did not echo after the reload" stream_send CLIVE "two"
	stream_close CLIVE
	need "the live mTLS client exited with $RC" test "$RC" -eq 0
	verdict reload.client_ca "$T_TMP/ca_old.err" "$T_TMP/ca_new.err" "$T_TMP/CLIVE.err" "$T_TMP/CS.err"
	stop_bg "$CS"
else
	fail reload.client_ca "mutls server did not start"
fi

# A new CRL: a client revoked after the server started is refused once the
# CRL that lists it is renamed into place and the server reloads.
crl_dir=$T_TMP/crl
mkdir -p "$crl_dir"
cat >"$crl_dir/ca.cnf" <<'EOF'
[ca]
default_ca = crl
[crl]
database = $ENV::CRL_DB/index.txt
default_md = sha256
default_crl_days = 1
EOF
: >"$crl_dir/index.txt"
# crl OUT: the CA's CRL, from the database as it is now.
crl() {
	CRL_DB=$crl_dir openssl ca -batch -config "$crl_dir/ca.cnf" -cert "$P/ca.pem" \
		-keyfile "$P/ca.key" -gencrl -out "$1" >>"$crl_dir/log" 2>&1
}
if crl "$crl_dir/empty.crl"; then
	put "$crl_dir/empty.crl" ca.crl
	if start_mutls_server VS "${P256[@]}" --http --client-ca "$P/ca.pem" --client-auth require \
		--crl "$L/ca.crl"; then
		mutls_client crl_before "$get" "127.0.0.1:$VS_port" "${TRUST[@]}" "${as_client[@]}"
		need "the client exited with $MC_RC before the revocation" test "$MC_RC" -eq 0
		if CRL_DB=$crl_dir openssl ca -batch -config "$crl_dir/ca.cnf" -cert "$P/ca.pem" \
			-keyfile "$P/ca.key" -revoke "$P/client.pem" >>"$crl_dir/log" 2>&1 &&
			crl "$crl_dir/revoked.crl"; then
			put "$crl_dir/revoked.crl" ca.crl
			need "no reload line within 10 s of SIGHUP" hup VS
			need "the reload did not succeed" last_reload_is VS '^mutls server: reloaded configuration '
			mutls_client crl_after "$get" "127.0.0.1:$VS_port" "${TRUST[@]}" "${as_client[@]}"
			need "the revoked client exited with $MC_RC, not 1" test "$MC_RC" -eq 1
			need "the client was not told certificate_revoked" \
				has "$T_TMP/crl_after.err" 'handshake failed: MUTLS_E_PEER_ALERT \(alert received: certificate_revoked\)'
			need "the server did not log MUTLS_E_CERT_REVOKED" \
				wait_line "$T_TMP/VS.err" ' failed MUTLS_E_CERT_REVOKED alert_sent=certificate_revoked: ' 5
		else
			need "openssl ca could not revoke" false
			dump "$crl_dir/log"
		fi
		# A CRL that does not parse: refused, the revocation stays in force.
		printf 'not a CRL\n' >"$crl_dir/bad.crl"
		put "$crl_dir/bad.crl" ca.crl
		need "no reload line within 10 s of SIGHUP" hup VS
		need "the reload line is not 'reload failed, keeping the previous configuration: --crl: ...'" \
			last_reload_is VS '^mutls server: reload failed, keeping the previous configuration: --crl: .+'
		mutls_client crl_kept "$get" "127.0.0.1:$VS_port" "${TRUST[@]}" "${as_client[@]}"
		need "the revoked client got in after a failed reload (exit $MC_RC)" test "$MC_RC" -eq 1
		verdict reload.crl "$T_TMP/crl_before.err" "$T_TMP/crl_after.err" "$T_TMP/VS.err"
		stop_bg "$VS"
	else
		fail reload.crl "mutls server did not start"
	fi
else
	fail reload.crl "openssl ca could not make a CRL"
	dump "$crl_dir/log"
fi

# ---- tickets ------------------------------------------------------------------------------

# With --ticket-keys, a session from before a reload resumes after it; with
# keys of the server's own making, each config has new ones, so it does not
# (a full handshake follows, and the client still succeeds).
openssl rand -hex 48 >"$T_TMP/ticket.keys"
# resumes_across_reload NAME WANT ARGS...: a session saved before SIGHUP is
# offered after it; the client must succeed, with resumed=WANT.
resumes_across_reload() {
	local name=$1 want=$2
	shift 2
	if ! start_mutls_server KS "${P256[@]}" "$@"; then
		fail "reload.$name" "mutls server did not start"
		return
	fi
	mutls_client "${name}_1" $'one\n' "127.0.0.1:$KS_port" "${TRUST[@]}" --sess-out "$T_TMP/$name.sess"
	need "the first client exited with $MC_RC" test "$MC_RC" -eq 0
	need "no session saved" test -s "$T_TMP/$name.sess"
	need "no reload line within 10 s of SIGHUP" hup KS
	need "the reload did not succeed" last_reload_is KS '^mutls server: reloaded configuration '
	mutls_client "${name}_2" $'two\n' "127.0.0.1:$KS_port" "${TRUST[@]}" --sess-in "$T_TMP/$name.sess"
	need "the second client exited with $MC_RC" test "$MC_RC" -eq 0
	need "the second client did not say resumed=$want" \
		has "$T_TMP/${name}_2.err" "^mutls client: connected to .*, resumed=$want\\)\$"
	verdict "reload.$name" "$T_TMP/${name}_1.err" "$T_TMP/${name}_2.err" "$T_TMP/KS.err"
	stop_bg "$KS"
	RELOADS[KS]=0
}
resumes_across_reload tickets_survive_with_ticket_keys yes --ticket-keys "$T_TMP/ticket.keys"
resumes_across_reload tickets_end_with_own_keys no --tickets 1

# ---- under live traffic ----------------------------------------------------------------

# Three clients stream a line every 0.1 s for about 4 s each, and 20 short
# clients connect one after another, while the server reloads 6 times,
# alternating two certificates. Every client must succeed and get back
# exactly what it sent.
put "$P/server-p256.pem" server.pem
put "$P/server-p256.key" server.key
if start_mutls_server TS --cert "$L/server.pem" --key "$L/server.key"; then
	streamers=()
	for s in 1 2 3; do
		for i in $(seq 40); do echo "stream $s line $i"; done >"$T_TMP/stream$s.want"
		(
			for i in $(seq 40); do
				echo "stream $s line $i"
				sleep 0.1
			done | timeout 60 "$MUTLS" client "127.0.0.1:$TS_port" "${TRUST[@]}" --quiet \
				>"$T_TMP/stream$s.out" 2>"$T_TMP/stream$s.err"
			echo $? >"$T_TMP/stream$s.rc"
		) &
		streamers+=($!)
		T_PIDS="$T_PIDS $!"
	done
	(
		for i in $(seq 20); do
			printf 'short %s\n' "$i" | timeout "$T_TIMEOUT" "$MUTLS" client "127.0.0.1:$TS_port" \
				"${TRUST[@]}" --quiet >"$T_TMP/short$i.out" 2>"$T_TMP/short$i.err"
			echo $? >"$T_TMP/short$i.rc"
			sleep 0.1
		done
	) &
	shorts=$!
	T_PIDS="$T_PIDS $shorts"

	# The reloads, while all that runs.
	for r in 1 2 3 4 5 6; do
		sleep 0.5
		if [ $((r % 2)) -eq 1 ]; then
			put "$P/rotated.pem" server.pem
			put "$P/rotated.key" server.key
		else
			put "$P/server-p256.pem" server.pem
			put "$P/server-p256.key" server.key
		fi
		need "no reload line within 10 s of SIGHUP $r" hup TS
		need "reload $r did not succeed" last_reload_is TS '^mutls server: reloaded configuration '
	done
	for pid in "${streamers[@]}" "$shorts"; do
		wait "$pid" 2>/dev/null
	done

	for s in 1 2 3; do
		rc=$(cat "$T_TMP/stream$s.rc" 2>/dev/null)
		need "streaming client $s exited with '${rc:-?}'" test "${rc:-1}" -eq 0
		need "streaming client $s did not get back exactly its 40 lines" \
			same "$T_TMP/stream$s.out" "$T_TMP/stream$s.want"
	done
	short_bad=
	for i in $(seq 20); do
		rc=$(cat "$T_TMP/short$i.rc" 2>/dev/null)
		if [ "${rc:-1}" -ne 0 ] || [ "$(cat "$T_TMP/short$i.out")" != "short $i" ]; then
			short_bad="$short_bad $i"
		fi
	done
	need "short clients failed:$short_bad" test -z "$short_bad"
	need "the server did not log 6 reloads" \
		test "$(grep -c '^mutls server: reloaded configuration ' "$T_TMP/TS.err")" -eq 6
	need "the server did not log 23 ok connections ending in close_notify" \
		wait_count "$T_TMP/TS.err" '^mutls server: [^ ]+ ok TLSv1\.3 .* end=close_notify$' 23 5
	need "the server logged a failure" hasnt "$T_TMP/TS.err" ' failed |reload failed|refused|dropped'
	bad_logs=()
	for s in 1 2 3; do bad_logs+=("$T_TMP/stream$s.err"); done
	for i in $(seq 20); do
		[ -s "$T_TMP/short$i.err" ] && bad_logs+=("$T_TMP/short$i.err")
	done
	verdict reload.under_live_traffic_drops_no_connection "$T_TMP/TS.err" "${bad_logs[@]}"
	stop_bg "$TS"
else
	fail reload.under_live_traffic_drops_no_connection "mutls server did not start"
fi

finish
