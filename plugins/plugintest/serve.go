package plugintest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// Protocols are the protocols Run sends a request over.
var Protocols = []string{"HTTP/1.1", "HTTP/2", "HTTP/3"}

// serve starts a server for proto on 127.0.0.1 that answers with h, and
// returns a client for it and the base URL to send to. Both end with the
// test.
func serve(t testing.TB, proto string, h http.Handler) (*http.Client, string) {
	t.Helper()
	switch proto {
	case "HTTP/1.1":
		ln := listen(t)
		srv := &http.Server{Handler: h}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr}, "http://" + ln.Addr().String()
	case "HTTP/2":
		ln := listen(t)
		srv := &http.Server{Handler: h, TLSConfig: serverTLS("h2")}
		go srv.ServeTLS(ln, "", "")
		t.Cleanup(func() { srv.Close() })
		tr := &http.Transport{TLSClientConfig: clientTLS(), ForceAttemptHTTP2: true}
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP2(true)
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr}, "https://" + ln.Addr().String()
	case "HTTP/3":
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		qt := &quic.Transport{Conn: udp}
		ln, err := qt.ListenEarly(http3.ConfigureTLSConfig(serverTLS()), &quic.Config{})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http3.Server{Handler: h}
		go srv.ServeListener(ln)
		t.Cleanup(func() {
			srv.Close()
			ln.Close()
			qt.Close()
		})
		tr := &http3.Transport{TLSClientConfig: clientTLS()}
		t.Cleanup(func() { tr.Close() })
		return &http.Client{Transport: tr}, "https://" + udp.LocalAddr().String()
	}
	t.Fatalf("unknown protocol %q: want one of %q", proto, Protocols)
	return nil, ""
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// The certificate every server uses: made once, for 127.0.0.1.
var (
	certOnce sync.Once
	cert     tls.Certificate
	roots    *x509.CertPool
)

func makeCert() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "plugintest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"example.com"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	roots = x509.NewCertPool()
	roots.AddCert(leaf)
}

func serverTLS(protos ...string) *tls.Config {
	certOnce.Do(makeCert)
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: protos, MinVersion: tls.VersionTLS12}
}

func clientTLS() *tls.Config {
	certOnce.Do(makeCert)
	return &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}
