#!/usr/bin/env bash
# tests/cli/usage.sh - the command line itself, no network: help and version
# exit 0 and cover every option; every usage error exits 2 with one
# sentence on stderr, nothing on stdout, and no server started.
# shellcheck source=tests/cli/cli.bash
. "$(dirname "$0")/cli.bash"
cli_begin usage

docs=$(cd "$(dirname "$0")/../../docs/cli" 2>/dev/null && pwd)

# ---- help and version -------------------------------------------------------

run_mutls top --help
need "exit $RC, not 0" test $RC -eq 0
need "no usage line" has "$T_TMP/top.out" '^Usage: mutls SUBCOMMAND'
need "subcommand server not listed" has "$T_TMP/top.out" '^  server '
need "subcommand client not listed" has "$T_TMP/top.out" '^  client '
need "stderr not empty" empty "$T_TMP/top.err"
verdict usage.help "$T_TMP/top.out" "$T_TMP/top.err"

run_mutls version --version
need "exit $RC, not 0" test $RC -eq 0
need "stdout is not one line 'mutls X.Y.Z'" one_sentence "$T_TMP/version.out" '^mutls [0-9]+\.[0-9]+\.[0-9]+$'
need "stderr not empty" empty "$T_TMP/version.err"
verdict usage.version "$T_TMP/version.out" "$T_TMP/version.err"

# The options each subcommand must have; its help may list more, and every
# option its help lists must be in its help text and in docs/cli/NAME.md.
# shellcheck disable=SC2034  # read through ${!opts}
server_options="--listen --cert --key --alpn --echo --http --once --handshake-timeout
	--idle-timeout --max-connections --keylog --ciphers --groups --sigalgs --help"
# shellcheck disable=SC2034
client_options="--servername --cacert --insecure --alpn --keylog --ciphers --groups
	--sigalgs --quiet --help"
for sub in server client; do
	run_mutls "help-$sub" help "$sub"
	need "exit $RC, not 0" test $RC -eq 0
	need "no 'Usage: mutls $sub'" has "$T_TMP/help-$sub.out" "^Usage: mutls $sub "
	need "stderr not empty" empty "$T_TMP/help-$sub.err"
	opts=${sub}_options
	for o in ${!opts}; do
		need "help does not list $o" has "$T_TMP/help-$sub.out" "^  (-h, )?$o( |\$)"
	done
	# Every listed option has an example, and is in the docs.
	listed=$(grep -Eo '^  (-h, )?--[a-z-]+' "$T_TMP/help-$sub.out" | grep -Eo -- '--[a-z-]+')
	examples=$(grep -c '^      Example: ' "$T_TMP/help-$sub.out")
	need "$(echo "$listed" | wc -l) options but $examples examples (--help has none)" \
		test "$examples" -eq $(($(echo "$listed" | wc -l) - 1))
	for o in $listed; do
		need "docs/cli/$sub.md does not mention $o" grep -q -- "\`$o" "$docs/$sub.md"
	done
	verdict "usage.help_$sub" "$T_TMP/help-$sub.out" "$T_TMP/help-$sub.err"

	run_mutls "dash-help-$sub" "$sub" --help
	need "exit $RC, not 0" test $RC -eq 0
	need "'mutls $sub --help' differs from 'mutls help $sub'" \
		same "$T_TMP/dash-help-$sub.out" "$T_TMP/help-$sub.out"
	verdict "usage.${sub}_dash_help" "$T_TMP/dash-help-$sub.out" "$T_TMP/dash-help-$sub.err"
done

# ---- usage errors ---------------------------------------------------------------

# usage_error NAME REGEX ARGS...: `mutls ARGS` exits 2 with one line on
# stderr matching REGEX, and prints nothing on stdout (no "listening on").
usage_error() {
	local name=$1 re=$2
	shift 2
	run_mutls "$name" "$@"
	need "exit $RC, not 2" test $RC -eq 2
	need "stderr is not one line matching /$re/" one_sentence "$T_TMP/$name.err" "$re"
	need "something on stdout" empty "$T_TMP/$name.out"
	verdict "usage.$name" "$T_TMP/$name.err" "$T_TMP/$name.out"
}

srv=(server --listen 127.0.0.1:0 --cert server.pem --key server.key)
cli=(client 127.0.0.1:4433 --insecure)

usage_error unknown_subcommand "^mutls: unknown subcommand 'frob' .*see mutls --help\$" frob
usage_error help_unknown_subcommand "^mutls: unknown subcommand 'frob'" help frob
usage_error planned_subcommand "^mutls: not implemented yet: 'tunnel'" tunnel
usage_error server_unknown_option "^mutls server: unknown option '--frob'; see mutls server --help\$" \
	"${srv[@]}" --frob
usage_error server_unknown_short_option "^mutls server: unknown option '-x'" "${srv[@]}" -x
usage_error client_unknown_option "^mutls client: unknown option '--frob'; see mutls client --help\$" \
	"${cli[@]}" --frob
usage_error server_no_port "^mutls server: --listen '127\.0\.0\.1' has no port" \
	server --listen 127.0.0.1 --cert server.pem --key server.key
usage_error server_port_too_big "^mutls server: --listen '127\.0\.0\.1:65536': the port must be" \
	server --listen 127.0.0.1:65536 --cert server.pem --key server.key
usage_error server_v6_no_brackets "^mutls server: --listen '::1:4433': put an IPv6 address in brackets" \
	server --listen ::1:4433 --cert server.pem --key server.key
usage_error client_no_port "^mutls client: 'localhost' has no port" client localhost --insecure
usage_error client_port_zero "^mutls client: '127\.0\.0\.1:0': the port must be a number from 1" \
	client 127.0.0.1:0 --insecure
usage_error client_no_target "^mutls client: give the server as HOST:PORT" client --insecure
usage_error client_two_targets "^mutls client: unexpected argument 'b:2'" client a:1 b:2 --insecure
usage_error echo_with_http "^mutls server: --echo and --http cannot be used together" \
	"${srv[@]}" --echo --http
usage_error server_no_listen "^mutls server: --listen HOST:PORT is required" \
	server --cert server.pem --key server.key
usage_error server_no_key "^mutls server: --cert CHAIN.pem and --key KEY.pem are required" \
	server --listen 127.0.0.1:0 --cert server.pem
usage_error option_twice "^mutls server: --cert was given twice" "${srv[@]}" --cert other.pem
usage_error option_without_value "^mutls server: --alpn needs a value \(LIST\)" "${srv[@]}" --alpn
usage_error option_empty_value "^mutls server: --alpn needs a value \(LIST\), not an empty one" \
	"${srv[@]}" --alpn=
usage_error flag_with_value "^mutls server: --once takes no value" "${srv[@]}" --once=yes
usage_error client_no_trust \
	"^mutls client: nothing to verify the server against: give --cacert CA\.pem .*--insecure" \
	client 127.0.0.1:4433
usage_error client_cacert_and_insecure "^mutls client: --cacert and --insecure contradict" \
	client 127.0.0.1:4433 --cacert ca.pem --insecure
usage_error handshake_timeout_not_a_number \
	"^mutls server: --handshake-timeout 'soon': give a whole number of seconds from 0 to 86400" \
	"${srv[@]}" --handshake-timeout soon
usage_error handshake_timeout_negative "^mutls server: --handshake-timeout '-1': " \
	"${srv[@]}" --handshake-timeout -1
usage_error idle_timeout_fraction "^mutls server: --idle-timeout '1\.5': give a whole number" \
	"${srv[@]}" --idle-timeout 1.5
usage_error idle_timeout_too_big "^mutls server: --idle-timeout '86401': " \
	"${srv[@]}" --idle-timeout 86401
usage_error max_connections_zero \
	"^mutls server: --max-connections '0': give a whole number of connections from 1 to 256" \
	"${srv[@]}" --max-connections 0
usage_error max_connections_too_many "^mutls server: --max-connections '257': " \
	"${srv[@]}" --max-connections 257

finish
