# tests/interop/mtls_pyserver.py - a TLS 1.3 HTTP server on Python's ssl
# module that asks for client certificates, for mtls_client.sh and
# resume_client.sh.
#
#   mtls_pyserver.py CERT KEY CAFILE MODE [--pha]
#
# MODE is required (CERT_REQUIRED), optional (CERT_OPTIONAL) or none
# (CERT_NONE), the client CAs are CAFILE. Python loads them with
# load_verify_locations, which does not set OpenSSL's client CA list, so its
# CertificateRequest names no certificate_authorities.
#
# With --pha the server does not ask during the handshake (OpenSSL's
# SSL_VERIFY_POST_HANDSHAKE, what Python's post_handshake_auth sets on a
# server), but after it: once the HTTP request has arrived, it calls
# verify_client_post_handshake() and reads on, so that the client's answer
# (Certificate, CertificateVerify, Finished) is processed.
#
# It prints "listening on 127.0.0.1:PORT" on stdout, then one line per
# connection on stderr:
#   pyserver: PEER ok client_cert=SUBJECT|-        the handshake succeeded
#   pyserver: PEER failed: ERROR                   it did not
#   pyserver: PEER pha client_cert=SUBJECT|-       after the post-handshake request
#   pyserver: PEER pha refused: ERROR              it could not ask (no post_handshake_auth)
#   pyserver: PEER after handshake: ERROR          I/O failed later
# and answers every request with "HTTP/1.0 200 OK" and a body of one line,
# "pyserver: client_cert=SUBJECT|-". SUBJECT is written as CN=...,OU=...
import socket
import ssl
import sys

RDN = {"commonName": "CN", "organizationalUnitName": "OU", "organizationName": "O"}


def subject(s):
    cert = s.getpeercert()
    if not cert:
        return "-"
    parts = []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            parts.append("%s=%s" % (RDN.get(key, key), value))
    return ",".join(parts) or "-"


def log(msg):
    print("pyserver: " + msg, file=sys.stderr, flush=True)


def read_request(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def serve(s, peer, pha):
    read_request(s)
    if pha:
        try:
            s.verify_client_post_handshake()
        except ssl.SSLError as e:
            # The client did not offer post_handshake_auth: nothing was
            # sent, the connection goes on without the certificate.
            log("%s pha refused: %s" % (peer, e))
        else:
            # The CertificateRequest leaves with the next write or handshake
            # call; the client's answer is read by the next read. The client
            # then sends close_notify (its stdin is at its end), so the read
            # returns b"" once the certificate is in.
            s.do_handshake()
            s.recv(4096)
            log("%s pha client_cert=%s" % (peer, subject(s)))
    body = "pyserver: client_cert=%s\n" % subject(s)
    s.sendall(("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
               % (len(body), body)).encode())
    s.unwrap()


def linger(sock):
    """Closes after a refusal without a TCP reset: our FIN follows the alert,
    then what the client still sends is read until it closes. Closing with
    unread data would send a RST, which may reach the client before it has
    read the alert."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2)
        while sock.recv(4096):
            pass
    except OSError:
        pass
    sock.close()


def main():
    cert, key, cafile, mode = sys.argv[1:5]
    pha = "--pha" in sys.argv[5:]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(cafile)
    ctx.verify_mode = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL,
                       "none": ssl.CERT_NONE}[mode]
    if pha:
        ctx.post_handshake_auth = True
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    print("listening on 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
    while True:
        raw, addr = ls.accept()
        raw.settimeout(10)
        peer = "%s:%d" % addr
        try:
            s = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log("%s failed: %s" % (peer, e))
            linger(raw)
            continue
        log("%s ok client_cert=%s" % (peer, subject(s)))
        try:
            serve(s, peer, pha)
        except (ssl.SSLError, OSError) as e:
            log("%s after handshake: %s" % (peer, e))
            linger(s)
            continue
        s.close()


if __name__ == "__main__":
    main()
