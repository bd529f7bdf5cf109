package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"
)

// BenchmarkEgressThroughput pushes bytes one way to a loopback sink,
// directly and through a CONNECT tunnel of the forward proxy, in the same
// run, so that the two compare: the ratio of their MB/s is what a tunnel
// costs.
//
//	go test ./gateway -run '^$' -bench EgressThroughput -benchtime 2000x
func BenchmarkEgressThroughput(b *testing.B) {
	sink := newSinkServer(b)
	d := newLoopDialer()
	d.route("sink.example.com:9000", sink.Addr().String())
	tg := startProxy(b, `
egress:
  rules: [{ name: sink, to: { hosts: [sink.example.com], ports: [9000] } }]
`, d)
	buf := make([]byte, 64<<10)
	run := func(b *testing.B, open func() (net.Conn, io.Reader)) {
		b.SetBytes(int64(len(buf)))
		c, r := open()
		defer c.Close()
		b.ResetTimer()
		cpu := processCPU()
		for range b.N {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		// The sink answers one byte once it has read everything.
		if _, err := io.ReadFull(r, make([]byte, 1)); err != nil {
			b.Fatal(err)
		}
		// The process's CPU time (client, proxy and sink) varies far less
		// than wall time on a loaded machine; tunnel minus direct is what
		// the proxy spends.
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	}
	b.Run("direct", func(b *testing.B) {
		run(b, func() (net.Conn, io.Reader) {
			c, err := net.Dial("tcp", sink.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			return c, c
		})
	})
	b.Run("tunnel", func(b *testing.B) {
		run(b, func() (net.Conn, io.Reader) {
			c, br, resp := connectH1(b, tg.Addr("egress").String(), "sink.example.com:9000", "bench")
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("got %d, want 200", resp.StatusCode)
			}
			return c, br
		})
	})
}

// newSinkServer reads each connection to its end and answers one byte.
func newSinkServer(tb testing.TB) net.Listener {
	return serveConns(tb, nil, func(c net.Conn) {
		io.Copy(io.Discard, c)
		c.Write([]byte{'k'})
	})
}

// BenchmarkEgressNewTLSTunnels opens TLS connections to a loopback HTTPS
// server, directly and through a CONNECT tunnel whose ClientHello the
// proxy checks, in the same run: tunnels per second against connections
// per second.
//
//	go test ./gateway -run '^$' -bench EgressNewTLSTunnels -benchtime 2000x
func BenchmarkEgressNewTLSTunnels(b *testing.B) {
	cert, pool := benchCert(b, "tls.example.com")
	ln := serveConns(b, &tls.Config{Certificates: []tls.Certificate{cert}}, func(c net.Conn) {
		c.(*tls.Conn).Handshake()
		io.Copy(io.Discard, c)
	})
	d := newLoopDialer()
	d.route("tls.example.com:443", ln.Addr().String())
	tg := startProxy(b, `
egress:
  limits: { per_caller: { max_tunnels: 100000, per_second: 1000000 } }
  rules: [{ name: tls, to: { hosts: [tls.example.com], ports: [443] } }]
`, d)
	client := &tls.Config{ServerName: "tls.example.com", RootCAs: pool}
	handshake := func(b *testing.B, c net.Conn, r io.Reader) {
		tc := tls.Client(&readerConn{Conn: c, r: r}, client)
		if err := tc.Handshake(); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.Run("direct", func(b *testing.B) {
		for range b.N {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			handshake(b, c, c)
		}
	})
	b.Run("tunnel", func(b *testing.B) {
		for range b.N {
			c, br, resp := connectH1(b, tg.Addr("egress").String(), "tls.example.com:443", "bench")
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("got %d, want 200", resp.StatusCode)
			}
			handshake(b, c, br)
		}
	})
}

// benchCert makes a self-signed certificate for name and a pool that
// trusts it.
func benchCert(tb testing.TB, name string) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), DNSNames: []string{name}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
