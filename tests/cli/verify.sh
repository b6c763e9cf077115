#!/usr/bin/env bash
# tests/cli/verify.sh - what mutls client says when it cannot trust the
# server, or cannot reach it: exit 1 and one sentence naming the cause; the
# mutls server on the other side logs the alert it received.
# shellcheck source=tests/cli/cli.bash
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
. "$(dirname "$0")/cli.bash"
cli_begin verify pki

# refused_cert NAME CERT CODE ALERT SENTENCE_REGEX [CLIENT_ARGS...]: a mutls
# server with CERT; the client (trusting ca.pem, expecting localhost unless
# CLIENT_ARGS are given instead) fails with exactly one line
#   handshake failed: CODE (alert sent: ALERT): SENTENCE
# prints nothing on stdout, and the server logs alert_received=ALERT.
refused_cert() {
	local name=$1 cert=$2 code=$3 alert=$4 re=$5 cargs=(--servername localhost)
	shift 5
	[ $# -eq 0 ] || cargs=("$@")
	if ! start_mutls_server VS --cert "$P/$cert.pem" --key "$P/$cert.key"; then
		fail "verify.$name" "mutls server did not start"
		return
	fi
	mutls_client "$name" $'never sent\n' "127.0.0.1:$VS_port" --cacert "$P/ca.pem" "${cargs[@]}"
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "stderr is not one 'handshake failed: $code (alert sent: $alert): <$re>'" \
		one_sentence "$T_TMP/$name.err" \
		"^mutls client: handshake failed: $code \\(alert sent: $alert\\): .*$re"
	need "something on stdout" empty "$T_TMP/$name.out"
	need "server did not log 'failed MUTLS_E_PEER_ALERT alert_received=$alert'" \
		logged VS 1 " failed MUTLS_E_PEER_ALERT alert_received=$alert: .+"
	verdict "verify.$name" "$T_TMP/$name.err" "$T_TMP/VS.err"
	stop_bg "$VS"
}

# The sentence names the certificate and the name asked for.
refused_cert wrong_name server-wrong MUTLS_E_CERT_NAME_MISMATCH bad_certificate \
	'CN=wrong\.example .*does not match the name localhost'
# It names the issuer that is not trusted.
refused_cert untrusted_ca server-other MUTLS_E_CERT_UNTRUSTED unknown_ca \
	'issued by CN=mutls other CA, which is not in the trust store'
# It says "expired" and when.
refused_cert expired server-expired MUTLS_E_CERT_EXPIRED certificate_expired \
	'expired on 2020-02-01'
# A good certificate, but the client asked for another name.
refused_cert other_name server-p256 MUTLS_E_CERT_NAME_MISMATCH bad_certificate \
	'does not match the name api\.example' --servername api.example

# What passes: the right CA and name; and --insecure past an untrusted CA,
# saying so.
if start_mutls_server VS --cert "$P/server-other.pem" --key "$P/server-other.key"; then
	mutls_client insecure "" "127.0.0.1:$VS_port" --insecure
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'server certificate NOT verified (--insecure)'" \
		has "$T_TMP/insecure.err" '^mutls client: server certificate NOT verified \(--insecure\): subject=CN=localhost issuer=CN=mutls other CA '
	verdict verify.insecure_says_so "$T_TMP/insecure.err"
	stop_bg "$VS"
else
	fail verify.insecure_says_so "mutls server did not start"
fi

if start_mutls_server VS --cert "$P/server-chain.pem" --key "$P/server-chain.key"; then
	mutls_client chain "" "127.0.0.1:$VS_port" --cacert "$P/ca.pem"
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "no 'server certificate verified: subject=CN=localhost issuer=CN=mutls test intermediate CA'" \
		has "$T_TMP/chain.err" '^mutls client: server certificate verified: subject=CN=localhost issuer=CN=mutls test intermediate CA .*sha256=[0-9a-f]{64}$'
	verdict verify.ip_address_and_chain "$T_TMP/chain.err"
	stop_bg "$VS"
else
	fail verify.ip_address_and_chain "mutls server did not start"
fi

# ---- cannot reach the server -----------------------------------------------------

# A port that was just listening and is closed now.
if start_mutls_server VS "${P256[@]}"; then
	port=$VS_port
	stop_bg "$VS"
	mutls_client nobody "" "127.0.0.1:$port" "${TRUST[@]}"
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "stderr is not one 'cannot connect to 127.0.0.1:$port: Connection refused (is the server running, on that port?)'" \
		one_sentence "$T_TMP/nobody.err" \
		"^mutls client: cannot connect to 127\\.0\\.0\\.1:$port: Connection refused \\(is the server running, on that port\\?\\)\$"
	verdict verify.connection_refused "$T_TMP/nobody.err"
else
	fail verify.connection_refused "mutls server did not start"
fi

# A TCP server that is not TLS: it closes as soon as it gets the ClientHello.
port_file=$T_TMP/plain.port
start_bg PLAIN "$PYTHON" -I -S -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
c, _ = s.accept()
c.recv(4096)
c.close()' "$port_file"
if wait_line "$port_file" '^[0-9]+$' 5; then
	mutls_client plain "" "127.0.0.1:$(cat "$port_file")" "${TRUST[@]}"
	need "client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "stderr is not one 'handshake failed: MUTLS_E_EOF (no alert): <sentence>'" \
		one_sentence "$T_TMP/plain.err" '^mutls client: handshake failed: MUTLS_E_EOF \(no alert\): .+'
	verdict verify.not_a_tls_server "$T_TMP/plain.err"
	stop_bg "$PLAIN"
else
	fail verify.not_a_tls_server "the plain TCP server did not start"
fi

finish
