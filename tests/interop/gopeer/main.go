// gopeer is a TLS 1.3 peer built on Go's crypto/tls, for the interop tests.
// Standard library only, so it builds offline.
//
//	gopeer server -listen ADDR -cert CHAIN.pem -key KEY.pem [-alpn LIST]
//	              [-groups LIST] [-ciphers LIST] [-http] [-once]
//	              [-clientca CA.pem] [-clientauth require|optional|none]
//	gopeer client -connect ADDR -servername NAME -cacert CA.pem [-alpn LIST]
//	              [-groups LIST] [-ciphers LIST] [-cert C -key K] -send TEXT
//
// The server prints "listening on HOST:PORT" on stdout once it accepts, then
// one stderr line per connection. It echoes what it reads until the client
// closes, or with -http answers one HTTP request with a text body that names
// the protocol version, the cipher suite and the ALPN protocol.
//
// Client authentication (mutual TLS): -clientca names the CA(s) whose client
// certificates are accepted; -clientauth chooses Go's mode: require
// (RequireAndVerifyClientCert), optional (VerifyClientCertIfGiven) or none
// (NoClientCert). -clientca alone means require; require and optional need
// -clientca. With -clientauth, the server names the verified client in its
// reply: echo mode first sends one line
//
//	client=SUBJECT uri=URI[,URI...]
//
// (SUBJECT as Go prints it, e.g. "CN=mutls test client"; "-" for none), then
// echoes; the -http body ends with the same line. The per-connection stderr
// line always has client_cert=SUBJECT (spaces as _) and client_uri=URIS.
// A refused client gets Go's alert (e.g. certificate_required, bad_certificate)
// and a "failed" stderr line.
//
// Go 1.19's ConnectionState does not name the key exchange group, so
// neither side prints it; the mutls side of each test reports it.
//
// The client prints "version=... cipher=... alpn=..." and then
// "reply=<text>" on stdout; it sends TEXT, reads until as many bytes came
// back (or the server closed), then closes. It exits 1 on any failure, with
// one line on stderr.
//
// Lists are comma separated. Groups: x25519, secp256r1 (P-256), secp384r1
// (P-384), secp521r1 (P-521); the first is the preferred one, and a client
// sends its key share for the first only. Go does not let a program choose
// TLS 1.3 cipher suites (Config.CipherSuites is ignored for 1.3), so
// -ciphers is a check instead: the negotiated suite must be in the list.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const ioTimeout = 10 * time.Second

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gopeer server|client [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = server(os.Args[2:])
	case "client":
		err = client(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q (server or client)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gopeer %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseGroups(s string) ([]tls.CurveID, error) {
	var ids []tls.CurveID
	for _, name := range splitList(s) {
		switch strings.ToLower(name) {
		case "x25519":
			ids = append(ids, tls.X25519)
		case "secp256r1", "p-256", "p256", "prime256v1":
			ids = append(ids, tls.CurveP256)
		case "secp384r1", "p-384", "p384":
			ids = append(ids, tls.CurveP384)
		case "secp521r1", "p-521", "p521":
			ids = append(ids, tls.CurveP521)
		default:
			return nil, fmt.Errorf("unknown group %q", name)
		}
	}
	return ids, nil
}

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	}
	return fmt.Sprintf("0x%04x", v)
}

// checkCipher enforces -ciphers: Go picks TLS 1.3 suites itself.
func checkCipher(allowed []string, st tls.ConnectionState) error {
	if len(allowed) == 0 {
		return nil
	}
	got := tls.CipherSuiteName(st.CipherSuite)
	for _, a := range allowed {
		if a == got {
			return nil
		}
	}
	return fmt.Errorf("negotiated %s, not one of %s", got, strings.Join(allowed, ","))
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return pool, nil
}

// baseConfig: TLS 1.3 only, with the -alpn and -groups of either side.
func baseConfig(alpn, groups string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13}
	cfg.NextProtos = splitList(alpn)
	ids, err := parseGroups(groups)
	if err != nil {
		return nil, err
	}
	cfg.CurvePreferences = ids
	return cfg, nil
}

func server(args []string) error {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	certFile := fs.String("cert", "", "certificate chain (PEM, leaf first)")
	keyFile := fs.String("key", "", "private key (PEM)")
	alpn := fs.String("alpn", "", "ALPN protocols, comma separated")
	groups := fs.String("groups", "", "groups, preferred first")
	ciphers := fs.String("ciphers", "", "cipher suites a connection must negotiate")
	httpMode := fs.Bool("http", false, "answer one HTTP request per connection")
	once := fs.Bool("once", false, "exit after one connection")
	clientCA := fs.String("clientca", "", "CA(s) whose client certificates are accepted (PEM)")
	clientAuth := fs.String("clientauth", "", "require, optional or none (default: require with -clientca, else none)")
	fs.Parse(args)

	cfg, err := baseConfig(*alpn, *groups)
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return err
	}
	cfg.Certificates = []tls.Certificate{cert}
	if *clientCA != "" {
		if cfg.ClientCAs, err = loadPool(*clientCA); err != nil {
			return err
		}
	}
	mode := *clientAuth
	if mode == "" && *clientCA != "" {
		mode = "require"
	}
	switch mode {
	case "", "none":
		cfg.ClientAuth = tls.NoClientCert
	case "require":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		return fmt.Errorf("-clientauth %q: require, optional or none", mode)
	}
	if cfg.ClientAuth != tls.NoClientCert && cfg.ClientCAs == nil {
		return fmt.Errorf("-clientauth %s needs -clientca", mode)
	}
	// Name the client in the reply only when asked to: the plain echo stays
	// byte for byte.
	showClient := *clientAuth != ""

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Printf("listening on %s\n", ln.Addr())
	os.Stdout.Sync()

	allowed := splitList(*ciphers)
	for {
		raw, err := ln.Accept()
		if err != nil {
			return err
		}
		if *once {
			return serveConn(raw, cfg, allowed, *httpMode, showClient)
		}
		go serveConn(raw, cfg, allowed, *httpMode, showClient)
	}
}

// serveConn runs one connection and logs it in one line.
func serveConn(raw net.Conn, cfg *tls.Config, allowed []string, httpMode, showClient bool) error {
	peer := raw.RemoteAddr().String()
	raw.SetDeadline(time.Now().Add(ioTimeout))
	c := tls.Server(raw, cfg)
	defer c.Close()
	err := c.Handshake()
	if err == nil {
		err = checkCipher(allowed, c.ConnectionState())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gopeer server: %s failed: %v\n", peer, err)
		return err
	}
	st := c.ConnectionState()
	fmt.Fprintf(os.Stderr, "gopeer server: %s ok %s %s alpn=%s sni=%s client_cert=%s client_uri=%s\n",
		peer, versionName(st.Version), tls.CipherSuiteName(st.CipherSuite),
		orDash(st.NegotiatedProtocol), orDash(st.ServerName), peerSubject(st), peerURIs(st))
	if httpMode {
		err = answerHTTP(c, st, showClient)
	} else {
		if showClient {
			_, err = io.WriteString(c, clientLine(st))
		}
		if err == nil {
			_, err = io.Copy(c, c)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gopeer server: %s after handshake: %v\n", peer, err)
	}
	return err
}

func answerHTTP(c *tls.Conn, st tls.ConnectionState, showClient bool) error {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return err
	}
	body := fmt.Sprintf("gopeer: %s %s alpn=%s path=%s\n", versionName(st.Version),
		tls.CipherSuiteName(st.CipherSuite), orDash(st.NegotiatedProtocol), req.URL.Path)
	if showClient {
		body += clientLine(st)
	}
	_, err = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"+
		"Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func peerSubject(st tls.ConnectionState) string {
	if len(st.PeerCertificates) == 0 {
		return "-"
	}
	return strings.ReplaceAll(st.PeerCertificates[0].Subject.String(), " ", "_")
}

// clientLine: "client=SUBJECT uri=URIS\n" for the verified client, "-" for none.
func clientLine(st tls.ConnectionState) string {
	subject := "-"
	if len(st.PeerCertificates) > 0 {
		subject = st.PeerCertificates[0].Subject.String()
	}
	return fmt.Sprintf("client=%s uri=%s\n", subject, peerURIs(st))
}

// peerURIs: the client leaf's URI SANs, comma separated, or "-".
func peerURIs(st tls.ConnectionState) string {
	if len(st.PeerCertificates) == 0 {
		return "-"
	}
	var uris []string
	for _, u := range st.PeerCertificates[0].URIs {
		uris = append(uris, u.String())
	}
	if len(uris) == 0 {
		return "-"
	}
	return strings.Join(uris, ",")
}

func client(args []string) error {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	connect := fs.String("connect", "", "HOST:PORT to connect to")
	serverName := fs.String("servername", "localhost", "name to send and verify")
	caFile := fs.String("cacert", "", "trusted CA (PEM)")
	alpn := fs.String("alpn", "", "ALPN protocols, comma separated")
	groups := fs.String("groups", "", "groups, preferred first")
	ciphers := fs.String("ciphers", "", "cipher suites the connection must negotiate")
	certFile := fs.String("cert", "", "client certificate chain (PEM)")
	keyFile := fs.String("key", "", "client private key (PEM)")
	send := fs.String("send", "hello from gopeer\n", "text to send")
	fs.Parse(args)

	cfg, err := baseConfig(*alpn, *groups)
	if err != nil {
		return err
	}
	cfg.ServerName = *serverName
	if *caFile == "" {
		return errors.New("-cacert is required")
	}
	if cfg.RootCAs, err = loadPool(*caFile); err != nil {
		return err
	}
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}

	d := net.Dialer{Timeout: ioTimeout}
	c, err := tls.DialWithDialer(&d, "tcp", *connect, cfg)
	if err != nil {
		return fmt.Errorf("handshake failed: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	st := c.ConnectionState()
	if err := checkCipher(splitList(*ciphers), st); err != nil {
		return err
	}
	fmt.Printf("version=%s cipher=%s alpn=%s\n", versionName(st.Version),
		tls.CipherSuiteName(st.CipherSuite), orDash(st.NegotiatedProtocol))

	if _, err := io.WriteString(c, *send); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	reply := make([]byte, 0, len(*send))
	buf := make([]byte, 4096)
	for len(reply) < len(*send) {
		n, err := c.Read(buf)
		reply = append(reply, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read after %d bytes: %w", len(reply), err)
		}
	}
	fmt.Printf("reply=%s\n", strings.TrimRight(string(reply), "\n"))
	// Close sends close_notify; the echo server then closes too.
	return c.Close()
}
