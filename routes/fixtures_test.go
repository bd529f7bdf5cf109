package routes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes/identity/devca"
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

var (
	spiffeOnce  sync.Once
	spiffeFiles map[string][]byte
	spiffeErr   error
)

// testSPIFFE returns the SPIFFE fixtures, made once per test binary: a CA
// of cluster.local and the SVID spiffe://cluster.local/ns/edge/sa/gateway
// in csi-driver-spiffe's files, an SVID of example.org, one of
// cluster.local from another CA, partner.example's bundle, and in spire/
// an SVID through an intermediate in the files SPIRE's helper writes.
func testSPIFFE(t testing.TB) map[string][]byte {
	t.Helper()
	spiffeOnce.Do(func() { spiffeFiles, spiffeErr = newSPIFFEFiles() })
	if spiffeErr != nil {
		t.Fatalf("making SPIFFE fixtures: %v", spiffeErr)
	}
	return spiffeFiles
}

func newSPIFFEFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	add := func(prefix string, ca *devca.CA, id string) error {
		s, err := ca.Issue(spiffeid.RequireFromString(id), devca.IssueOptions{})
		if err != nil {
			return err
		}
		key, err := s.KeyPEM()
		files["spiffe/"+prefix+".crt"], files["spiffe/"+prefix+".key"] = s.CertPEM(), key
		return err
	}
	var errs []error
	ca, err := devca.New(spiffeid.RequireTrustDomainFromString("cluster.local"), 0)
	errs = append(errs, err)
	other, err := devca.New(spiffeid.RequireTrustDomainFromString("cluster.local"), 0)
	errs = append(errs, err)
	foreign, err := devca.New(spiffeid.RequireTrustDomainFromString("example.org"), 0)
	errs = append(errs, err)
	partner, err := devca.New(spiffeid.RequireTrustDomainFromString("partner.example"), 0)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	errs = append(errs,
		add("tls", ca, "spiffe://cluster.local/ns/edge/sa/gateway"),
		add("other", ca, "spiffe://cluster.local/ns/edge/sa/other"),
		add("stranger", other, "spiffe://cluster.local/ns/edge/sa/gateway"),
		add("foreign", foreign, "spiffe://example.org/ns/edge/sa/gateway"))
	// SPIRE's helper writes the chain with its intermediate, under its own
	// names.
	inter, err := ca.NewIntermediate(0)
	if err != nil {
		return nil, err
	}
	errs = append(errs, add("spire", inter, "spiffe://cluster.local/ns/edge/sa/gateway"))
	files["spire/svid.pem"], files["spire/svid_key.pem"] = files["spiffe/spire.crt"], files["spiffe/spire.key"]
	files["spire/svid_bundle.pem"] = ca.BundlePEM()
	files["spiffe/ca.crt"] = ca.BundlePEM()
	files["spiffe/partner.crt"] = partner.BundlePEM()
	return files, errors.Join(errs...)
}

// fixtureDir returns a new directory holding the files that the routes
// files in testdata refer to by relative path:
//
//	tls/edge.crt, tls/edge.key    a matching pair
//	tls/other.crt, tls/other.key  a second pair, whose key edge.crt rejects
//	ca.pem                        a CA certificate
//	empty.pem                     a file with no PEM block
//	logs/                         a directory for an access log
//	spiffe/                       SVIDs and bundles (testSPIFFE)
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
	maps.Copy(files, testSPIFFE(t))
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
