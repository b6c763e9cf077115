#!/usr/bin/env bash
# tests/cli/lifecycle.sh - how mutls server ends things: SIGTERM and SIGINT
# (exit 0, nothing left running), --handshake-timeout and --idle-timeout
# (a stalled client loses its connection, and the log says which limit),
# --max-connections (one more client is closed at once, and logged).
# shellcheck source=tests/cli/cli.bash
# shellcheck disable=SC2154  # NAME_port: set by start_mutls_server NAME
. "$(dirname "$0")/cli.bash"
cli_begin lifecycle pki

# ---- signals ---------------------------------------------------------------------

# stops_on SIGNAL NAME [HELD]: a mutls server gets SIGNAL (sent to the mutls
# process itself, not to the `timeout` around it) and must exit 0 within
# 5 s, log "stopping on signal", and leave no process behind. With HELD, a
# client is connected meanwhile; it must then end too.
stops_on() {
	local sig=$1 name=$2 held=${3:-} pid open=0
	if ! start_mutls_server SS "${P256[@]}"; then
		fail "lifecycle.$name" "mutls server did not start"
		return
	fi
	pid=$(child_of "$SS")
	if [ -n "$held" ]; then
		open=1
		held_client H "still here\n" "127.0.0.1:$SS_port" "${TRUST[@]}"
		need "the client got no echo" wait_line "$T_TMP/H.out" '^still here$' 5
	fi
	need "no mutls process under timeout (pid $SS)" test -n "$pid"
	kill -s "$sig" "$pid" 2>/dev/null
	wait_exit "$SS" 5
	need "server exited with $RC, not 0" test $RC -eq 0
	need "mutls (pid $pid) is still running" sh -c "! kill -0 $pid 2>/dev/null"
	need "mutls left a child process" test -z "$(pgrep -P "$pid")"
	need "no 'stopping on signal, $open connection(s) still open'" \
		has "$T_TMP/SS.err" "^mutls server: stopping on signal, $open connection\\(s\\) still open\$"
	if [ -n "$held" ]; then
		# The connection was cut without close_notify: the client warns and
		# ends, it does not hang.
		wait_exit "$H" 5
		need "the client did not end by itself (status $RC)" test $RC -ne 255
		need "the client did not warn about the missing close_notify" \
			has "$T_TMP/H.err" '^mutls client: warning: the server closed TCP without close_notify'
		release H
	fi
	verdict "lifecycle.$name" "$T_TMP/SS.err" "$T_TMP/H.err"
}

stops_on TERM sigterm
stops_on INT sigint
stops_on TERM sigterm_with_a_client_connected held

# ---- --handshake-timeout -----------------------------------------------------------

# cut_in_handshake NAME MODE LOG_REGEX: with --handshake-timeout 1, a TCP
# client in MODE (see tcp_probe) is cut after about 1 s, and the server's
# one log line for it matches LOG_REGEX.
if start_mutls_server TS "${P256[@]}" --handshake-timeout 1; then
	n=0
	cut_in_handshake() {
		local name=$1 mode=$2 re=$3 said
		n=$((n + 1))
		said=$(tcp_probe "$TS_port" "$mode" 6)
		need "the connection was not cut within 0.8-4 s: $said" \
			between "$(echo "$said" | sed -n 's/^closed after //p')" 0.8 4
		need "server log line $n is not 'failed MUTLS_E_TIMEOUT: $re'" \
			logged TS $n "^mutls server: 127\\.0\\.0\\.1:[0-9]+ failed MUTLS_E_TIMEOUT: $re"
		verdict "lifecycle.$name" "$T_TMP/TS.err"
	}
	cut_in_handshake handshake_timeout_silent silent \
		'the client sent nothing within 1 s of connecting \(--handshake-timeout\); is it a TLS client\?$'
	cut_in_handshake handshake_timeout_stalled partial \
		'the client did not complete the handshake within 1 s \(--handshake-timeout\)'
	# A byte every 0.2 s: each read succeeds, only a deadline for the whole
	# handshake can end it.
	cut_in_handshake handshake_timeout_trickle trickle \
		'the client did not complete the handshake within 1 s \(--handshake-timeout\)'

	# A real client that is merely slower than no one: still served.
	mutls_client ok $'ok\n' "127.0.0.1:$TS_port" "${TRUST[@]}" --quiet
	need "client exited with $MC_RC" test $MC_RC -eq 0
	need "no echo" has "$T_TMP/ok.out" '^ok$'
	verdict lifecycle.handshake_timeout_spares_real_clients "$T_TMP/ok.err" "$T_TMP/TS.err"
	stop_bg "$TS"
else
	fail lifecycle.handshake_timeout_silent "mutls server did not start"
fi

# --once: a timed-out handshake is a failed one.
if start_mutls_server OS "${P256[@]}" --once --handshake-timeout 1; then
	said=$(tcp_probe "$OS_port" silent 6)
	wait_exit "$OS" 5
	need "server exited with $RC, not 1" test $RC -eq 1
	need "not cut: $said" has <(echo "$said") '^closed after '
	need "no 'failed MUTLS_E_TIMEOUT'" has "$T_TMP/OS.err" ' failed MUTLS_E_TIMEOUT: '
	verdict lifecycle.once_handshake_timeout_exits_1 "$T_TMP/OS.err"
else
	fail lifecycle.once_handshake_timeout_exits_1 "mutls server did not start"
fi

# ---- --idle-timeout -------------------------------------------------------------------

if start_mutls_server IS "${P256[@]}" --idle-timeout 1; then
	# Sends a line, gets it back, then sends nothing: after 1 s the server
	# says goodbye with close_notify, so the client ends cleanly.
	held_client I1 "idle soon\n" "127.0.0.1:$IS_port" "${TRUST[@]}"
	need "no echo" wait_line "$T_TMP/I1.out" '^idle soon$' 5
	wait_exit "$I1" 5
	release I1
	need "the client was not let go within 5 s, or failed (status $RC)" test $RC -eq 0
	need "the client warned about a missing close_notify" \
		hasnt "$T_TMP/I1.err" 'without close_notify'
	need "server log is not '... end=MUTLS_E_TIMEOUT: the client sent nothing for 1 s (--idle-timeout)'" \
		logged IS 1 ' ok TLSv1\.3 .* bytes_in=10 bytes_out=10 hrr=no end=MUTLS_E_TIMEOUT: the client sent nothing for 1 s \(--idle-timeout\)$'
	verdict lifecycle.idle_timeout_echo "$T_TMP/I1.err" "$T_TMP/IS.err"

	# A line every 0.4 s for 2 s is not idle.
	rm -f "$T_TMP/I2.go"
	{
		for i in 1 2 3 4 5; do
			printf 'tick %s\n' "$i"
			sleep 0.4
		done
	} | timeout "$T_TIMEOUT" "$MUTLS" client "127.0.0.1:$IS_port" "${TRUST[@]}" --quiet \
		>"$T_TMP/I2.out" 2>"$T_TMP/I2.err"
	rc=$?
	need "client exited with $rc" test $rc -eq 0
	need "not all 5 ticks came back" test "$(grep -c '^tick [1-5]$' "$T_TMP/I2.out")" -eq 5
	need "server log is not '... bytes_in=35 bytes_out=35 hrr=no end=close_notify'" \
		logged IS 2 ' bytes_in=35 bytes_out=35 hrr=no end=close_notify$'
	verdict lifecycle.idle_timeout_spares_active_clients "$T_TMP/I2.err" "$T_TMP/IS.err"
	stop_bg "$IS"
else
	fail lifecycle.idle_timeout_echo "mutls server did not start"
fi

# --http: the request must arrive within the idle timeout of the handshake.
if start_mutls_server HS "${P256[@]}" --http --idle-timeout 1; then
	held_client H2 'GET / HTTP/1.1\r\nHost: localhost\r\n' "127.0.0.1:$HS_port" "${TRUST[@]}"
	wait_exit "$H2" 5
	release H2
	need "the client was not let go within 5 s, or failed (status $RC)" test $RC -eq 0
	need "the client got an answer" empty "$T_TMP/H2.out"
	need "server log is not '... http=- end=MUTLS_E_TIMEOUT: the client sent no whole request within 1 s (--idle-timeout)'" \
		logged HS 1 ' hrr=no http=- end=MUTLS_E_TIMEOUT: the client sent no whole request within 1 s \(--idle-timeout\)$'
	verdict lifecycle.idle_timeout_http_request "$T_TMP/H2.err" "$T_TMP/HS.err"
	stop_bg "$HS"
else
	fail lifecycle.idle_timeout_http_request "mutls server did not start"
fi

# ---- --max-connections -------------------------------------------------------------------

if start_mutls_server MS "${P256[@]}" --max-connections 2; then
	held_client M1 "one\n" "127.0.0.1:$MS_port" "${TRUST[@]}" --quiet
	held_client M2 "two\n" "127.0.0.1:$MS_port" "${TRUST[@]}" --quiet
	need "client 1 got no echo" wait_line "$T_TMP/M1.out" '^one$' 5
	need "client 2 got no echo" wait_line "$T_TMP/M2.out" '^two$' 5
	mutls_client third $'three\n' "127.0.0.1:$MS_port" "${TRUST[@]}"
	need "the third client exited with $MC_RC, not 1" test $MC_RC -eq 1
	need "the third client did not fail in the handshake" \
		has "$T_TMP/third.err" '^mutls client: handshake failed: '
	need "server log is not one line 'PEER refused: 2 connections already open (--max-connections)'" \
		logged MS 1 '^mutls server: 127\.0\.0\.1:[0-9]+ refused: 2 connections already open \(--max-connections\)$'
	release M1
	release M2
	wait_exit "$M1" 5
	need "client 1 exited with $RC" test $RC -eq 0
	wait_exit "$M2" 5
	need "client 2 exited with $RC" test $RC -eq 0
	# The slots are free again once both connections are logged and closed.
	wait_count "$T_TMP/MS.err" ' ok TLSv1\.3 ' 2 5
	sleep 0.2
	mutls_client fourth $'four\n' "127.0.0.1:$MS_port" "${TRUST[@]}" --quiet
	need "the fourth client (after the others left) exited with $MC_RC" test $MC_RC -eq 0
	need "the fourth client got no echo" has "$T_TMP/fourth.out" '^four$'
	verdict lifecycle.max_connections "$T_TMP/third.err" "$T_TMP/MS.err"
	stop_bg "$MS"
else
	fail lifecycle.max_connections "mutls server did not start"
fi

finish
