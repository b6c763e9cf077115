#!/usr/bin/env bash
# tests/fuzz/make_certs.sh - (re)makes the fuzzers' small PKI in tests/fuzz/certs/.
#
# The fuzz targets embed these PEMs (fuzz.mk turns them into C strings) and
# verify peers at a fixed time (fz_verify_time in fuzz.h, 2030-01-01), so the
# files never expire for them: every certificate is valid from 2024-01-01 to
# 2124-01-01. Ed25519 everywhere, because its signatures are deterministic: a
# handshake between our injected client and server is then the same bytes on
# every run, and the seed corpus can carry whole encrypted flights.
#
#   ca.pem / ca.key          CN=mutls fuzz CA (self-signed)
#   server.pem / server.key  CN=localhost, SAN DNS:localhost,IP:127.0.0.1, serverAuth
#   client.pem / client.key  CN=mutls fuzz client, SAN URI:spiffe://mutls.test/fuzz, clientAuth
#
# After changing them, refresh the seeds: tests/fuzz/make_corpus.sh.
# Test material only: these keys are public.
set -eu
cd "$(dirname "$0")/certs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/x509.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost,IP:127.0.0.1
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:spiffe://mutls.test/fuzz
[ca]
default_ca = fz
[fz]
dir = $ENV::TMPCA
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
default_md = default
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
CNF
export OPENSSL_CONF=$tmp/x509.cnf TMPCA=$tmp
: >"$tmp/index.txt"
echo 01 >"$tmp/serial"

for n in ca server client; do
	openssl genpkey -algorithm ED25519 -out "$n.key"
done
# sign NAME SUBJECT EXT [-selfsign]: a certificate for NAME.key.
sign() {
	local n=$1 subj=$2 ext=$3
	shift 3
	openssl req -new -key "$n.key" -subj "$subj" -out "$tmp/$n.csr"
	openssl ca -batch -notext -config "$tmp/x509.cnf" -cert ca.pem -keyfile ca.key \
		-extfile "$tmp/x509.cnf" -extensions "$ext" \
		-startdate 20240101000000Z -enddate 21240101000000Z \
		-in "$tmp/$n.csr" -out "$n.pem" "$@" 2>/dev/null
}
sign ca "/CN=mutls fuzz CA" ca_ext -selfsign
sign server /CN=localhost server_ext
sign client "/CN=mutls fuzz client" client_ext
openssl verify -CAfile ca.pem -attime 1893456000 server.pem client.pem
