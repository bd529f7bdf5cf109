package serve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// freeAddr is a loopback port free for both TCP and UDP at the time of the
// call.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if pc, err := net.ListenPacket("udp", addr); err == nil {
			pc.Close()
			return addr
		}
	}
	t.Fatal("no port free on both tcp and udp")
	return ""
}

// selfSigned writes a certificate for 127.0.0.1 and returns the file names.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestRunServesEveryProtocol(t *testing.T) {
	cert, key := selfSigned(t)
	o := Options{Addr: freeAddr(t), TLSAddr: freeAddr(t), CertFile: cert, KeyFile: key, H3: true}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, h, o) }()

	insecure := &tls.Config{InsecureSkipVerify: true}
	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	h2 := &http.Transport{TLSClientConfig: insecure, Protocols: new(http.Protocols)}
	h2.Protocols.SetHTTP2(true)
	tests := []struct {
		name string
		rt   http.RoundTripper
		url  string
		want string
	}{
		{"plain http/1.1", &http.Transport{}, "http://" + o.Addr + "/", "HTTP/1.1"},
		{"h2c", h2c, "http://" + o.Addr + "/", "HTTP/2.0"},
		{"tls http/2", h2, "https://" + o.TLSAddr + "/", "HTTP/2.0"},
		{"http/3", &http3.Transport{TLSClientConfig: insecure}, "https://" + o.TLSAddr + "/", "HTTP/3.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := &http.Client{Transport: tc.rt, Timeout: 5 * time.Second}
			var resp *http.Response
			var err error
			// The listeners come up in their own goroutines; a loaded
			// machine may take a while to start them.
			for end := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if resp, err = client.Get(tc.url); err == nil || time.Now().After(end) {
					break
				}
			}
			if err != nil {
				t.Fatalf("get: got %v, want nil", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != tc.want {
				t.Errorf("protocol: got %q, want %q", body, tc.want)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: got %v, want nil", err)
	}
}

func TestRunNeedsAnAddress(t *testing.T) {
	if err := Run(context.Background(), http.NotFoundHandler(), Options{}); err == nil {
		t.Errorf("got nil error, want one")
	}
}
