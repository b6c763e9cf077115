# tests/lib.sh - helpers for the shell tests (tests/interop/*.sh, tests/cli/*.sh).
# shellcheck shell=bash disable=SC2034  # globals (GOPEER, MC_RC, ...) are read by the scripts
# Source it from bash:   . "$(dirname "$0")/../lib.sh"
#
# Protocol: every check prints one line, "PASS <name>" or "FAIL <name>: <why>";
# tests/run.sh counts them. Anything else a test prints (peer logs after a
# failure) is indented so it never starts with PASS or FAIL.
#
# A script calls mk_tmp first, starts peers with start_bg / start_mutls_server
# (their PIDs are recorded), and ends with `finish`. The EXIT trap kills every
# recorded PID and removes the temp dir (T_KEEP=1 keeps it), whatever the way
# out. The helpers, in the order they appear:
#   pass, fail, skip, need + verdict, dump, has, hasnt, same   checks
#   mk_tmp, cleanup, finish                                    life cycle
#   free_port, wait_port, wait_line, wait_count, nth_line      waiting
#   start_bg, stop_bg, alive                                   peers
#   start_mutls_server, start_openssl_server, have_mutls, logged
#   mutls_client, echo_client, s_client_echo                   clients
#   make_certs DIR                                             a test PKI
#   build_gopeer                                               the Go peer
# Environment: MUTLS_BUILD (the build dir; $PWD/build by default), T_TIMEOUT
# (seconds a client may take, 10), T_BG_TIMEOUT (a background peer's life, 60),
# PYTHON.

: "${MUTLS_BUILD:=$PWD/build}"
MUTLS="$MUTLS_BUILD/mutls"
T_PASS=0
T_FAIL=0
T_TMP=
T_PIDS=
T_WHY=
declare -A T_MUTLS_ERR=() T_MUTLS_ARGS=()
# What AddressSanitizer, LeakSanitizer and UBSan print when they find a bug.
T_SAN_RE='ERROR: [A-Za-z]+Sanitizer|: runtime error: '
# Every peer command runs under `timeout $T_TIMEOUT` (seconds): a hung peer
# costs one failure, not the whole run.
: "${T_TIMEOUT:=10}"
# Debian's python3 (the package deps.sh installs), not a shim earlier in PATH
# that may start slowly or link another OpenSSL.
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

pass() {
	echo "PASS $1"
	T_PASS=$((T_PASS + 1))
}

# fail NAME WHY...
fail() {
	local name=$1
	shift
	echo "FAIL $name: $*"
	T_FAIL=$((T_FAIL + 1))
}

# skip NAME WHY...: a check that could not run here. Not a failure, but said.
skip() {
	local name=$1
	shift
	echo "SKIP $name: $*"
}

# need DESC CMD...: runs CMD; if it fails, DESC joins the reasons the current
# case fails. verdict NAME then prints PASS or FAIL with those reasons.
need() {
	local desc=$1
	shift
	if ! "$@"; then
		T_WHY="${T_WHY:+$T_WHY; }$desc"
	fi
	return 0
}

# verdict NAME [LOG...]: PASS if no `need` failed since the last verdict and
# no LOG holds a sanitizer report, else FAIL with the reasons, followed by the
# tails of the given logs.
verdict() {
	local name=$1 f
	shift
	# A sanitizer report in any log of the case fails it too.
	for f in "$@"; do
		if has "$f" "$T_SAN_RE"; then
			T_WHY="${T_WHY:+$T_WHY; }sanitizer report in ${f##*/}"
		fi
	done
	if [ -z "$T_WHY" ]; then
		pass "$name"
	else
		fail "$name" "$T_WHY"
		dump "$@"
	fi
	T_WHY=
}

# dump FILE...: the last lines of each file, indented.
dump() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		echo "    --- ${f##*/}"
		if has "$f" "$T_SAN_RE"; then
			grep -E -A30 -- "$T_SAN_RE" "$f" | head -n 40 | sed 's/^/    | /'
		else
			tail -n 15 "$f" | sed 's/^/    | /'
		fi
	done
}

# has FILE PATTERN: FILE contains a line matching the extended regex.
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
# hasnt FILE PATTERN
hasnt() { ! grep -Eq -- "$2" "$1" 2>/dev/null; }
# same FILE1 FILE2: byte for byte.
same() { cmp -s -- "$1" "$2"; }

# mk_tmp: creates the script's temp dir in T_TMP (removed on exit).
mk_tmp() {
	if [ -z "$T_TMP" ]; then
		T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mutls-test.XXXXXX")
	fi
}

cleanup() {
	local pid
	for pid in $T_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $T_PIDS; do
		wait "$pid" 2>/dev/null
	done
	T_PIDS=
	if [ -n "$T_TMP" ] && [ -z "${T_KEEP:-}" ]; then
		rm -rf "$T_TMP"
	fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# finish: the script's last call; non-zero status if any check failed.
finish() {
	[ "$T_FAIL" -eq 0 ]
	exit $?
}

# free_port: a TCP port on 127.0.0.1 that the kernel just said is free.
# Racy by nature; prefer peers that can listen on port 0 and say where.
free_port() {
	"$PYTHON" -I -S -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# wait_port PORT [TIMEOUT]: waits until something listens on TCP PORT
# (IPv4 or IPv6). Reads /proc/net/tcp*, so it never connects: a peer that
# accepts one connection only is not disturbed. TIMEOUT in seconds (5).
wait_port() {
	local port=$1 limit=${2:-5} hex i=0
	hex=$(printf ':%04X' "$port")
	while [ $i -lt $((limit * 20)) ]; do
		# Column 2 is local address:port, column 4 the state; 0A = LISTEN.
		if awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
			END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# wait_line FILE REGEX [TIMEOUT]: waits until FILE has a line matching REGEX.
wait_line() {
	local file=$1 re=$2 limit=${3:-5} i=0
	while [ $i -lt $((limit * 20)) ]; do
		has "$file" "$re" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# start_bg VAR CMD...: starts CMD in the background, under a timeout, with
# stdin from /dev/null, stdout in $T_TMP/VAR.out and stderr in $T_TMP/VAR.err.
# Sets VAR to its PID and records it for cleanup.
start_bg() {
	local var=$1 pid
	shift
	mk_tmp
	: >"$T_TMP/$var.out"
	: >"$T_TMP/$var.err"
	timeout "${T_BG_TIMEOUT:-60}" "$@" </dev/null >"$T_TMP/$var.out" 2>"$T_TMP/$var.err" &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	printf -v "$var" '%s' "$pid"
}

# stop_bg PID: stops one background peer and waits for it.
# A mutls server must leave cleanly: exit status 0 on SIGTERM, and no
# sanitizer report (LeakSanitizer speaks at exit). Otherwise one FAIL line,
# "<script>.mutls_server_exit"; nothing is printed when all is well.
stop_bg() {
	local pid=$1 p rest="" status
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	# Bounded: a process that does not leave within 20 s is killed and
	# reported (one failure), instead of stalling the whole script.
	local waited=0
	while kill -0 "$pid" 2>/dev/null && [ $waited -lt 200 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		pkill -9 -P "$pid" 2>/dev/null # a wrapper's child (timeout, env) goes too
		kill -9 "$pid" 2>/dev/null
		fail "${0##*/}.stop" "process $pid (${T_MUTLS_ARGS[$pid]:-a peer}) did not exit within 20 s of SIGTERM"
	fi
	wait "$pid" 2>/dev/null
	status=$?
	for p in $T_PIDS; do
		[ "$p" = "$pid" ] || rest="$rest $p"
	done
	T_PIDS=$rest
	if [ -n "${T_MUTLS_ERR[$pid]:-}" ]; then
		local err=${T_MUTLS_ERR[$pid]} name=${0##*/}
		name=${name%.sh}.mutls_server_exit
		if [ "$status" -ne 0 ]; then
			fail "$name" "mutls server ${T_MUTLS_ARGS[$pid]} exited with status $status"
			dump "$err"
		elif has "$err" "$T_SAN_RE"; then
			fail "$name" "sanitizer report from mutls server ${T_MUTLS_ARGS[$pid]}"
			grep -E -A12 -- "$T_SAN_RE" "$err" | head -n 40 | sed 's/^/    | /'
		fi
		unset "T_MUTLS_ERR[$pid]" "T_MUTLS_ARGS[$pid]"
	fi
	return 0
}

# alive PID
alive() { kill -0 "$1" 2>/dev/null; }

# start_mutls_server VAR ARGS...: `mutls server --listen 127.0.0.1:0 ARGS`;
# waits for its "listening on 127.0.0.1:PORT" line and sets VAR (PID) and
# VAR_port. Returns 1 if it did not come up (its stderr is then dumped).
start_mutls_server() {
	local var=$1 line port
	shift
	# LeakSanitizer's stop-the-world at exit has been seen, rarely, to hang a
	# many-threaded server after SIGTERM here; the library's leaks are checked
	# in-process by the C tests, so servers run without it (ASan and UBSan
	# stay on, and their reports fail the case).
	start_bg "$var" env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		"$MUTLS" server --listen 127.0.0.1:0 "$@"
	if ! wait_line "$T_TMP/$var.out" '^listening on ' 5; then
		echo "    mutls server did not say 'listening on' within 5 s"
		dump "$T_TMP/$var.out" "$T_TMP/$var.err"
		return 1
	fi
	line=$(grep -m1 '^listening on ' "$T_TMP/$var.out")
	port=${line##*:}
	printf -v "${var}_port" '%s' "$port"
	T_MUTLS_ERR[${!var}]=$T_TMP/$var.err
	T_MUTLS_ARGS[${!var}]="($*)"
}

# start_openssl_server VAR ARGS...: `openssl s_server -accept 127.0.0.1:0
# ARGS`; waits for "ACCEPT 127.0.0.1:PORT" and sets VAR and VAR_port.
start_openssl_server() {
	local var=$1 line
	shift
	start_bg "$var" openssl s_server -accept 127.0.0.1:0 "$@"
	if ! wait_line "$T_TMP/$var.out" '^ACCEPT ' 5; then
		echo "    openssl s_server did not say ACCEPT within 5 s"
		dump "$T_TMP/$var.out" "$T_TMP/$var.err"
		return 1
	fi
	line=$(grep -m1 '^ACCEPT ' "$T_TMP/$var.out")
	printf -v "${var}_port" '%s' "${line##*:}"
}

# have_mutls: the CLI under test exists; else every check is one FAIL.
have_mutls() {
	if [ ! -x "$MUTLS" ]; then
		fail "${0##*/}" "no mutls CLI at $MUTLS (build it, or set MUTLS_BUILD)"
		return 1
	fi
}

# make_certs DIR: a small PKI made with the openssl CLI. Keys are PKCS#8 PEM.
#   ca.pem/.key              root CA, ECDSA P-256, CN=mutls test CA
#   server-p256.pem/.key     leaf CN=localhost, SAN DNS:localhost,IP:127.0.0.1,
#   server-p384.pem/.key       EKU serverAuth, signed by the CA, one per key
#   server-rsa.pem/.key        type (RSA is 2048 bits)
#   server-ed25519.pem/.key
#   other-ca.pem/.key        an unrelated CA
#   server-other.pem/.key    localhost leaf from the unrelated CA
#   server-expired.pem/.key  localhost leaf valid only in January 2020
#   server-wrong.pem/.key    leaf for CN=wrong.example, SAN DNS:wrong.example
#   inter-ca.pem/.key        intermediate CA under the root
#   server-chain.pem/.key    leaf from the intermediate, then the intermediate
#   client.pem/.key          client leaf (EKU clientAuth), CN=mutls test client,
#                            SAN URI:spiffe://mutls.test/client
#   client-other.pem/.key    client leaf from the unrelated CA
#   client-noeku.pem/.key    leaf from the CA with serverAuth only (no clientAuth)
#   client-billing.pem/.key  CN=billing, OU=payments, OU=ledger, SAN
#                            URI:spiffe://mutls.test/billing/api, DNS:billing.mutls.test
#   client-expired.pem/.key  client leaf valid only in January 2020
# Subjects, serials and extensions are fixed; keys and signatures are fresh.
make_certs() {
	local d=$1
	mkdir -p "$d" || return 1
	cat >"$d/x509.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
# For `openssl ca`, used only for the expired certificate (a fixed past
# validity period is not settable with req/x509 in OpenSSL 3.0).
[ca_expired]
dir = .
database = $ENV::CADB/index.txt
serial = $ENV::CADB/serial
new_certs_dir = $ENV::CADB
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
EOF
	(
		set -e
		cd "$d"
		# x509.cnf reads SAN and CADB from the environment when it loads.
		export OPENSSL_CONF=$PWD/x509.cnf SAN=DNS:localhost CADB=$PWD/cadb
		local_san="DNS:localhost,IP:127.0.0.1"
		# mkkey NAME ALG [OPTS...]
		mkkey() {
			local n=$1
			shift
			openssl genpkey -algorithm "$@" -out "$n.key" 2>/dev/null
		}
		# issue NAME SUBJECT SECTION SERIAL ISSUER: a cert for NAME.key
		issue() {
			openssl req -new -x509 -config x509.cnf -key "$1.key" -subj "$2" \
				-extensions "$3" -set_serial "$4" -days 30 -sha256 \
				-CA "$5.pem" -CAkey "$5.key" -out "$1.pem"
		}
		# Roots are self-signed: req -x509 without -CA.
		root() {
			mkkey "$1" EC -pkeyopt ec_paramgen_curve:P-256
			openssl req -new -x509 -config x509.cnf -key "$1.key" -subj "$2" \
				-extensions ca -set_serial "$3" -days 30 -sha256 -out "$1.pem"
		}
		root ca "/CN=mutls test CA" 1
		root other-ca "/CN=mutls other CA" 2

		# RSA key generation is the slow part: let it overlap the rest.
		mkkey server-rsa RSA -pkeyopt rsa_keygen_bits:2048 &
		rsa_pid=$!
		mkkey server-p256 EC -pkeyopt ec_paramgen_curve:P-256
		mkkey server-p384 EC -pkeyopt ec_paramgen_curve:P-384
		mkkey server-ed25519 ED25519
		mkkey server-other EC -pkeyopt ec_paramgen_curve:P-256
		mkkey server-expired EC -pkeyopt ec_paramgen_curve:P-256
		mkkey server-wrong EC -pkeyopt ec_paramgen_curve:P-256
		mkkey inter-ca EC -pkeyopt ec_paramgen_curve:P-256
		mkkey server-chain EC -pkeyopt ec_paramgen_curve:P-256
		mkkey client EC -pkeyopt ec_paramgen_curve:P-256

		wait $rsa_pid
		export SAN=$local_san
		issue server-p256 /CN=localhost server 10 ca
		issue server-p384 /CN=localhost server 11 ca
		issue server-rsa /CN=localhost server 12 ca
		issue server-ed25519 /CN=localhost server 13 ca
		issue server-other /CN=localhost server 14 other-ca
		issue inter-ca "/CN=mutls test intermediate CA" inter 15 ca
		issue server-chain /CN=localhost server 16 inter-ca
		cat inter-ca.pem >>server-chain.pem
		SAN=DNS:wrong.example issue server-wrong /CN=wrong.example server 17 ca
		SAN=URI:spiffe://mutls.test/client issue client "/CN=mutls test client" client 18 ca
		# Clients for mutual TLS: another CA's, one without clientAuth, and
		# one with every kind of name the allow rules match.
		mkkey client-other EC -pkeyopt ec_paramgen_curve:P-256
		mkkey client-noeku EC -pkeyopt ec_paramgen_curve:P-256
		mkkey client-billing EC -pkeyopt ec_paramgen_curve:P-256
		mkkey client-expired EC -pkeyopt ec_paramgen_curve:P-256
		SAN=URI:spiffe://mutls.test/other issue client-other "/CN=other client" client 19 other-ca
		SAN=URI:spiffe://mutls.test/noeku issue client-noeku "/CN=noeku client" server 20 ca
		SAN=URI:spiffe://mutls.test/billing/api,DNS:billing.mutls.test \
			issue client-billing "/CN=billing/OU=payments/OU=ledger" client 21 ca

		# Expired: January 2020, through `openssl ca` with a throwaway database.
		mkdir -p "$CADB"
		: >"$CADB/index.txt"
		echo 13 >"$CADB/serial"
		openssl req -new -config x509.cnf -key server-expired.key -subj /CN=localhost \
			-out "$CADB/expired.csr"
		openssl ca -batch -notext -config x509.cnf -name ca_expired \
			-cert ca.pem -keyfile ca.key -extfile x509.cnf -extensions server \
			-startdate 20200101000000Z -enddate 20200201000000Z \
			-in "$CADB/expired.csr" -out server-expired.pem 2>/dev/null
		openssl req -new -config x509.cnf -key client-expired.key -subj "/CN=expired client" \
			-out "$CADB/client-expired.csr"
		SAN=URI:spiffe://mutls.test/expired openssl ca -batch -notext -config x509.cnf \
			-name ca_expired -cert ca.pem -keyfile ca.key -extfile x509.cnf -extensions client \
			-startdate 20200101000000Z -enddate 20200201000000Z \
			-in "$CADB/client-expired.csr" -out client-expired.pem 2>/dev/null
		rm -rf "$CADB"
	) || return 1
	# `set -e` does not hold when the caller tests our status: check the result.
	local f
	for f in ca other-ca inter-ca server-p256 server-p384 server-rsa server-ed25519 \
		server-other server-expired server-wrong server-chain client client-other client-noeku \
		client-billing client-expired; do
		if [ ! -s "$d/$f.pem" ] || [ ! -s "$d/$f.key" ]; then
			echo "    make_certs: $f.pem or $f.key was not made" >&2
			return 1
		fi
	done
}

# build_gopeer: builds tests/interop/gopeer into $MUTLS_BUILD/interop/gopeer
# (once; again when a source is newer) and sets GOPEER. Standard library only:
# the Go caches live under MUTLS_BUILD and the module proxy is off, so it
# works offline and as root on a clean machine.
build_gopeer() {
	local src out log
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")/interop/gopeer" && pwd) || return 1
	out=$MUTLS_BUILD/interop/gopeer
	GOPEER=$out
	if [ -x "$out" ] && [ -z "$(find "$src" -newer "$out" -type f)" ]; then
		return 0
	fi
	mkdir -p "$MUTLS_BUILD/interop" "$MUTLS_BUILD/go/cache" "$MUTLS_BUILD/go/path"
	log=$MUTLS_BUILD/interop/gopeer.log
	if ! (cd "$src" && env GOCACHE="$MUTLS_BUILD/go/cache" GOPATH="$MUTLS_BUILD/go/path" \
		GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 \
		go build -o "$out" . >"$log" 2>&1); then
		echo "    go build of gopeer failed:"
		sed 's/^/    | /' "$log"
		return 1
	fi
}

# mutls_client NAME INPUT ARGS...: runs `mutls client ARGS` with INPUT on
# stdin; stdout in $T_TMP/NAME.out, stderr in $T_TMP/NAME.err, status in MC_RC.
mutls_client() {
	local name=$1 input=$2
	shift 2
	mk_tmp
	printf '%s' "$input" | timeout "$T_TIMEOUT" "$MUTLS" client "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	MC_RC=$?
}

# echo_client OUT TOKEN CMD...: CMD is a client that sends its stdin and
# prints what it receives (openssl s_client, gnutls-cli). It gets TOKEN and a
# newline; its stdin stays open until TOKEN came back (or it gave up, or 5 s),
# then closes so the client ends the connection. Everything the client says
# goes to OUT; the status is the client's.
echo_client() {
	local out=$1 token=$2
	shift 2
	: >"$out"
	{
		printf '%s\n' "$token"
		wait_line "$out" "^$token\$|:error:|^DONE\$|^closed\$|^\*\*\* Fatal|^- Peer has closed" 5
	} | timeout "$T_TIMEOUT" "$@" >"$out" 2>&1
}

# s_client_echo OUT TOKEN ARGS...: echo_client with openssl s_client ARGS.
s_client_echo() {
	local out=$1 token=$2
	shift 2
	echo_client "$out" "$token" openssl s_client "$@"
}

# wait_count FILE REGEX N [TIMEOUT]: waits until N lines of FILE match REGEX.
wait_count() {
	local file=$1 re=$2 n=$3 limit=${4:-5} i=0
	while [ $i -lt $((limit * 20)) ]; do
		[ "$(grep -Ec -- "$re" "$file" 2>/dev/null)" -ge "$n" ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# nth_line FILE REGEX N: the Nth line of FILE that matches REGEX.
nth_line() { grep -E -- "$2" "$1" 2>/dev/null | sed -n "$3p"; }

# logged VAR N REGEX: the Nth per-connection line ("mutls server: ...") on the
# stderr of the mutls server started as VAR matches REGEX (waits up to 5 s
# for it: the server may log when the connection ends).
logged() {
	local err=$T_TMP/$1.err
	wait_count "$err" '^mutls server: ' "$2" 5 &&
		nth_line "$err" '^mutls server: ' "$2" | grep -Eq -- "$3"
}
