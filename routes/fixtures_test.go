package routes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// keyPair is a PEM certificate and its PEM private key.
type keyPair struct{ cert, key []byte }

var (
	pairsOnce sync.Once
	pairs     [2]keyPair
	pairsErr  error
)

// testPairs returns two self-signed certificates with their keys, made once
// per test binary: key generation is the slow part of the fixtures.
func testPairs(t testing.TB) [2]keyPair {
	t.Helper()
	pairsOnce.Do(func() {
		for i := range pairs {
			pairs[i], pairsErr = newKeyPair()
			if pairsErr != nil {
				return
			}
		}
	})
	if pairsErr != nil {
		t.Fatalf("making test certificates: %v", pairsErr)
	}
	return pairs
}

func newKeyPair() (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return keyPair{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// fixtureDir returns a new directory holding the files that the routes
// files in testdata refer to by relative path:
//
//	tls/edge.crt, tls/edge.key    a matching pair
//	tls/other.crt, tls/other.key  a second pair, whose key edge.crt rejects
//	ca.pem                        a CA certificate
//	empty.pem                     a file with no PEM block
//	logs/                         a directory for an access log
func fixtureDir(t testing.TB) string {
	t.Helper()
	p := testPairs(t)
	dir := t.TempDir()
	files := map[string][]byte{
		"tls/edge.crt":  p[0].cert,
		"tls/edge.key":  p[0].key,
		"tls/other.crt": p[1].cert,
		"tls/other.key": p[1].key,
		"ca.pem":        p[1].cert,
		"empty.pem":     []byte("not a certificate\n"),
	}
	for name, data := range files {
		writeFile(t, filepath.Join(dir, name), data)
	}
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadFixture copies the routes file src into a fixture directory and
// loads it from there, so that its relative paths find the fixtures.
func loadFixture(t testing.TB, src string) (*Config, *tracker, string, error) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := fixtureDir(t)
	path := filepath.Join(dir, filepath.Base(src))
	writeFile(t, path, data)
	reg, tr := testRegistry(t)
	cfg, err := Load(path, reg)
	return cfg, tr, dir, err
}
