package jwt

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Section is the routes file's top-level `jwt:` block. It takes the routes
// file's `policies:` files and `mesh:` block too.
type Section struct {
	// JWKSFetch sets how keys are fetched from a jwksUri (or an issuer's
	// OpenID configuration).
	JWKSFetch JWKSFetch `yaml:"jwks_fetch"`

	policies plugins.Policies
}

// JWKSFetch is the `jwt.jwks_fetch` block.
type JWKSFetch struct {
	// CAFile is a PEM file of CA certificates trusted for the fetches, in
	// addition to the system's roots, as istiod trusts its extra root CA:
	// for an issuer inside the organisation, behind a private CA.
	CAFile plugins.FilePath `yaml:"ca_file"`
	// Timeout bounds one fetch of a rule that sets no timeout of its own;
	// 0 means 5s, Istio's default.
	Timeout time.Duration `yaml:"timeout"`
}

// SetPolicies gives the section the routes file's policy files and mesh.
func (s *Section) SetPolicies(p plugins.Policies) { s.policies = p }

// apply checks the block and sets what it says in o.
func (f *JWKSFetch) apply(o *Options) error {
	if f.Timeout > 0 { // the routes file refuses a negative one
		o.FetchTimeout = f.Timeout
	}
	if f.CAFile == "" {
		return nil
	}
	roots, err := caPool(string(f.CAFile))
	if err != nil {
		return &plugins.FieldError{Field: "jwks_fetch.ca_file", Msg: err.Error()}
	}
	o.RootCAs = roots
	return nil
}

// caPool returns the system's roots with the CA certificates of the PEM
// file at path added.
func caPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool() // no system roots on this platform
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return roots, nil
}
