package h1guard

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"
)

// testCert returns a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// handshakeListener completes each TLS handshake and wraps the connection,
// as the gateway does for its TLS listeners.
type handshakeListener struct {
	net.Listener
	cfg  *tls.Config
	opts Options
}

func (l *handshakeListener) Accept() (net.Conn, error) {
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := tls.Server(raw, l.cfg)
		if err := tc.Handshake(); err != nil {
			tc.Close()
			continue
		}
		return Conn(tc, l.opts), nil
	}
}

// TestTLSConn serves HTTP/1 over TLS through Conn: Request.TLS must be set
// from the wrapped connection, and the guard must still answer a bare LF.
func TestTLSConn(t *testing.T) {
	cert, pool := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{}
	opts := Options{OnViolation: ts.record}
	srv := &http.Server{ErrorLog: discardLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || !r.TLS.HandshakeComplete {
			http.Error(w, "no TLS state", http.StatusInternalServerError)
		}
	})}
	go srv.Serve(&handshakeListener{Listener: ln, cfg: &tls.Config{Certificates: []tls.Certificate{cert}}, opts: opts})
	defer srv.Close()

	tests := []struct {
		name  string
		req   string
		codes []int
	}{
		{"good", getX, []int{200}},
		{"bare LF", "GET / HTTP/1.1\nHost: x\n\n", []int{400}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tc.req)
			c.CloseWrite()
			codes, body := readResponses(t, bufio.NewReader(c))
			if !slices.Equal(codes, tc.codes) {
				t.Errorf("got statuses %v (%q), want %v", codes, body, tc.codes)
			}
		})
	}
	// Each violation was reported before its 400 was written.
	if got, want := ts.violations(), []Kind{BareLF}; !slices.Equal(got, want) {
		t.Errorf("got violations %v, want %v", got, want)
	}
}

// TestALPN reads a guarded TLS connection directly: after "h2" was
// negotiated every byte passes, after "http/1.1" the guard checks them.
func TestALPN(t *testing.T) {
	cert, pool := testCert(t)
	const sent = "\x00\x00\x00\x04 not HTTP/1\n"
	tests := []struct {
		proto string
		want  string
	}{
		{"h2", sent},
		{"http/1.1", headReject},
	}
	for _, tc := range tests {
		t.Run(tc.proto, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, NextProtos: []string{tc.proto}})
				if err != nil {
					return
				}
				defer c.Close()
				io.WriteString(c, sent)
				c.CloseWrite()
				io.Copy(io.Discard, c)
			}()
			raw, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			tc0 := tls.Server(raw, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
			g := Conn(tc0, Options{})
			defer g.Close()
			g.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(g)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if p := tc0.ConnectionState().NegotiatedProtocol; p != tc.proto {
				t.Errorf("got ALPN %q, want %q", p, tc.proto)
			}
		})
	}
}
