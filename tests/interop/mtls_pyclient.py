# tests/interop/mtls_pyclient.py - a Python ssl client for the mTLS interop
# tests (mtls_server.sh, resume_server.sh). Standard library only.
#
#   mtls_pyclient.py HOST PORT CAFILE [--cert PEM --key KEY] [--pha]
#                    (--send TEXT | --get PATH)
#
# TLS 1.3 only; verifies the server as "localhost" against CAFILE. --cert and
# --key give the client identity (load_cert_chain); --pha sets
# post_handshake_auth, so that the server may ask for the certificate after
# the handshake (OpenSSL answers while we read).
#
# Prints "version=TLSv1.3" once the handshake is done, then either
# "reply=TEXT" (--send: what came back, up to as many bytes as were sent, or
# until the server closed) or the whole HTTP response (--get PATH: a GET over
# HTTP/1.0, read until the server closes), then "closed". In TLS 1.3 a refused
# client certificate shows only on the first read: any SSL error is printed
# as "ssl_error=REASON: MESSAGE" (REASON is OpenSSL's, e.g.
# TLSV13_ALERT_CERTIFICATE_REQUIRED) and the exit status is 1.
import socket
import ssl
import sys


def opt(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if opt("--cert"):
        ctx.load_cert_chain(opt("--cert"), opt("--key"))
    if "--pha" in sys.argv:
        ctx.post_handshake_auth = True
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            print("version=%s" % s.version(), flush=True)
            if opt("--get") is not None:
                s.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % opt("--get")).encode())
                got = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                sys.stdout.write(got.decode(errors="replace").replace("\r\n", "\n"))
                if not got.endswith(b"\n"):
                    print()
            else:
                want = (opt("--send", "hello") + "\n").encode()
                s.sendall(want)
                got = b""
                while len(got) < len(want):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                print("reply=%s" % got.decode(errors="replace").rstrip("\n"))
                s.unwrap()
    print("closed")


try:
    main()
except ssl.SSLError as e:
    print("ssl_error=%s: %s" % (e.reason, e), flush=True)
    sys.exit(1)
except OSError as e:
    print("os_error=%s" % e, flush=True)
    sys.exit(1)
