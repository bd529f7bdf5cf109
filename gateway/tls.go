package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// serverTLS builds a listener's TLS configuration: TLS 1.2 at least, AEAD
// cipher suites with forward secrecy only, session resumption by tickets,
// and certificates chosen by SNI, or the SVID of id.
func serverTLS(spec *routes.ListenerTLS, addr string, id *identity.Identity) (*tls.Config, error) {
	var certs []tls.Certificate
	if spec.Identity {
		if id == nil {
			return nil, fmt.Errorf("tls: identity: the configuration has no identity")
		}
		certs = append(certs, id.SVID.Certificate)
	}
	if spec.SelfSigned {
		c, err := selfSigned(addr)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	for i, ck := range spec.Certificates {
		c, err := tls.LoadX509KeyPair(ck.Cert, ck.Key)
		if err != nil {
			return nil, fmt.Errorf("tls certificates[%d]: %w", i, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("tls: no certificate")
	}
	sel, err := newCertSelector(certs)
	if err != nil {
		return nil, err
	}
	minVersion := uint16(tls.VersionTLS12)
	if spec.MinVersion == "1.3" {
		minVersion = tls.VersionTLS13
	}
	return &tls.Config{
		MinVersion:     minVersion,
		GetCertificate: sel.get,
		CipherSuites: []uint16{ // TLS 1.2 only; TLS 1.3's suites are all fine
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}, nil
}

// certSelector picks a certificate by SNI: an exact name first, then a
// wildcard certificate for the parent domain, then the first certificate.
type certSelector struct {
	byName map[string]*tls.Certificate
	def    *tls.Certificate
}

func newCertSelector(certs []tls.Certificate) (*certSelector, error) {
	s := &certSelector{byName: map[string]*tls.Certificate{}, def: &certs[0]}
	for i := range certs {
		c := &certs[i]
		leaf := c.Leaf
		if leaf == nil {
			var err error
			if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
				return nil, fmt.Errorf("tls certificates[%d]: %w", i, err)
			}
			c.Leaf = leaf
		}
		for _, n := range leaf.DNSNames {
			n = strings.ToLower(n)
			if _, seen := s.byName[n]; !seen { // the first certificate for a name wins
				s.byName[n] = c
			}
		}
	}
	return s, nil
}

func (s *certSelector) get(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if c, ok := s.byName[name]; ok {
		return c, nil
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if c, ok := s.byName["*"+name[i:]]; ok {
			return c, nil
		}
	}
	return s.def, nil
}

// selfSigned makes a certificate in memory for localhost names and the
// listener's address, valid for a year. It is for demos and tests: clients
// must be told to trust it (curl -k).
func selfSigned(addr string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"Portcullis self-signed"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "*.localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
