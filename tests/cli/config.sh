#!/usr/bin/env bash
# tests/cli/config.sh - settings refused at startup: the server (or client)
# exits 1 before it listens (or connects), with one sentence that names the
# option and the file or value at fault.
# shellcheck source=tests/cli/cli.bash
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
. "$(dirname "$0")/cli.bash"
cli_begin config pki

# refused NAME REGEX ARGS...: `mutls ARGS` exits 1 with one line on stderr
# matching REGEX and nothing on stdout (no "listening on").
refused() {
	local name=$1 re=$2
	shift 2
	run_mutls "$name" "$@"
	need "exit $RC, not 1" test $RC -eq 1
	need "stderr is not one line matching /$re/" one_sentence "$T_TMP/$name.err" "$re"
	need "something on stdout" empty "$T_TMP/$name.out"
	verdict "config.$name" "$T_TMP/$name.err" "$T_TMP/$name.out"
}

listen=(server --listen 127.0.0.1:0)
pem=$P/server-p256.pem
key=$P/server-p256.key
# Regex-quoted paths (they hold dots).
q() { printf '%s' "$1" | sed 's/[].[\\*^$+?(){}|]/\\&/g'; }

refused missing_cert "^mutls server: --cert/--key: .*$(q "$P/nope.pem").*No such file" \
	"${listen[@]}" --cert "$P/nope.pem" --key "$key"
refused missing_key "^mutls server: --cert/--key: .*$(q "$P/nope.key").*No such file" \
	"${listen[@]}" --cert "$pem" --key "$P/nope.key"
# The key of another certificate: both files are named.
refused key_not_matching \
	"^mutls server: --cert/--key: .*$(q "$P/server-p384.key").*$(q "$pem")" \
	"${listen[@]}" --cert "$pem" --key "$P/server-p384.key"
# A key where the certificate should be.
refused key_as_cert "^mutls server: --cert/--key: .*$(q "$key")" \
	"${listen[@]}" --cert "$key" --key "$key"
refused unknown_cipher '^mutls server: --ciphers: .*"TLS_AES_512_GCM_SHA1024"' \
	"${listen[@]}" "${P256[@]}" --ciphers TLS_AES_128_GCM_SHA256:TLS_AES_512_GCM_SHA1024
refused unknown_group '^mutls server: --groups: .*"ffdhe2048"' \
	"${listen[@]}" "${P256[@]}" --groups x25519,ffdhe2048
refused unknown_sigalg '^mutls server: --sigalgs: .*"rsa_pkcs1_sha1"' \
	"${listen[@]}" "${P256[@]}" --sigalgs rsa_pkcs1_sha1
refused bad_alpn '^mutls server: --alpn: ' "${listen[@]}" "${P256[@]}" --alpn h2,,http/1.1
refused keylog_unwritable "^mutls server: --keylog: .*$(q "$T_TMP/no/such/dir/keys.log")" \
	"${listen[@]}" "${P256[@]}" --keylog "$T_TMP/no/such/dir/keys.log"
# The client checks its settings before it connects: port 1 is never reached.
refused client_missing_cacert "^mutls client: --cacert: .*$(q "$P/nope.pem")" \
	client 127.0.0.1:1 --cacert "$P/nope.pem"
refused client_unknown_cipher '^mutls client: --ciphers: .*"TLS_RC4"' \
	client 127.0.0.1:1 --insecure --ciphers TLS_RC4

# A port that is taken: "cannot listen on", exit 1.
if start_mutls_server MS "${P256[@]}"; then
	run_mutls taken server --listen "127.0.0.1:$MS_port" "${P256[@]}"
	need "exit $RC, not 1" test $RC -eq 1
	need "no one-line 'cannot listen on 127.0.0.1:$MS_port: Address already in use'" \
		one_sentence "$T_TMP/taken.err" \
		"^mutls server: cannot listen on 127\.0\.0\.1:$MS_port: Address already in use\$"
	need "something on stdout" empty "$T_TMP/taken.out"
	verdict config.port_taken "$T_TMP/taken.err"
	stop_bg "$MS"
else
	fail config.port_taken "mutls server did not start"
fi

finish
