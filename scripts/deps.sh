#!/bin/sh
# deps.sh MODE - install the Debian packages that MODE needs and are missing.
#   demo   build and run the demo: compiler, make, pkg-config, OpenSSL 3
#   check  also the test peers and tools: clang (fuzz replay), GnuTLS, Go,
#          curl, Python, nginx
# Quiet when nothing is missing. As root it installs with apt-get; otherwise
# it prints the sudo line to run and exits 1.
set -eu

mode=${1:-demo}
demo_pkgs="libssl-dev openssl gcc make pkg-config"
check_pkgs="$demo_pkgs clang-14 libclang-rt-14-dev gnutls-bin golang-go curl python3 nginx-light"

case $mode in
demo) want=$demo_pkgs ;;
check) want=$check_pkgs ;;
*)
	echo "usage: $0 demo|check" >&2
	exit 2
	;;
esac

missing=
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "run: sudo apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "deps.sh: installing:$missing" >&2
# Another apt run may hold the locks: wait for it (up to 10 minutes) rather
# than fail. DPkg::Lock::Timeout covers the dpkg lock; the lists lock that
# "apt-get update" takes is waited for by retrying.
lock="-o DPkg::Lock::Timeout=600"
tries=0
# shellcheck disable=SC2086
until apt-get $lock update -qq; do
	tries=$((tries + 1))
	if [ $tries -ge 60 ]; then
		echo "deps.sh: apt-get update kept failing" >&2
		exit 1
	fi
	sleep 10
done
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get $lock install -y -qq --no-install-recommends $missing
