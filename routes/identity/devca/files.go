package devca

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// The files of a CA directory, and of an issued SVID in the shape
// cert-manager's csi-driver-spiffe writes (a certificate chain, its key and
// the trust bundle).
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
	CertFile   = "tls.crt"
	KeyFile    = "tls.key"
	BundleFile = "ca.crt"
)

// Save writes ca's certificate and key into dir (made 0700 if missing),
// each file 0600, and returns their paths. It refuses to overwrite a CA
// already there: issued certificates would silently stop verifying.
func (ca *CA) Save(dir string) ([]string, error) {
	if len(ca.Chain) > 0 {
		return nil, errors.New("only a root is saved")
	}
	keyPEM, err := encodeKey(ca.Key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("%s exists: a CA is already there (remove it first to start a new one)", p)
		}
	}
	// The key first, created exclusively: two runs at once cannot both
	// succeed.
	if err := writeNew(keyPath, keyPEM); err != nil {
		return nil, err
	}
	if err := writeNew(certPath, EncodeCerts(ca.Cert)); err != nil {
		os.Remove(keyPath)
		return nil, err
	}
	return []string{certPath, keyPath}, nil
}

// Load reads the CA that Save wrote into dir. Its trust domain is the one
// its certificate's URI SAN names.
func Load(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("no CA in %s: %w", dir, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("no CA key in %s: %w", dir, err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CACertFile, err)
	}
	if !cert.IsCA || len(cert.URIs) != 1 {
		return nil, fmt.Errorf("%s: not a CA certificate with its trust domain's SPIFFE ID", CACertFile)
	}
	td, err := spiffeid.TrustDomainFromURI(cert.URIs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CACertFile, err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", CAKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CAKeyFile, err)
	}
	key, ok := k.(crypto.Signer)
	if !ok || !publicKeyEqual(key.Public(), cert.PublicKey) {
		return nil, fmt.Errorf("%s does not belong to %s", CAKeyFile, CACertFile)
	}
	return &CA{TrustDomain: td, Cert: cert, Key: key}, nil
}

// WriteSVID writes s into dir as tls.crt, tls.key and ca.crt (the bundle),
// each 0600, and returns their paths. Each file is replaced whole, by a
// rename, so that a gateway watching dir never reads half a file.
func WriteSVID(dir string, s *SVID, bundlePEM []byte) ([]string, error) {
	keyPEM, err := s.KeyPEM()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range []struct {
		name string
		data []byte
	}{{KeyFile, keyPEM}, {CertFile, s.CertPEM()}, {BundleFile, bundlePEM}} {
		p := filepath.Join(dir, f.name)
		if err := WriteFile(p, f.data); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// WriteFile writes data to path with mode 0600 by renaming a temporary file
// into place.
func WriteFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: a CA is already there (remove it first to start a new one)", path)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

func encodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}
