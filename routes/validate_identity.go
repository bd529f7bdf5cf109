package routes

import (
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/portcullis-gw/portcullis/routes/identity"
)

// defaultTrustDomain is Istio's default trust domain.
const defaultTrustDomain = "cluster.local"

// checkIdentityBlock reads and checks the identity block's files, so that a
// missing file, a key that belongs to another certificate, a bundle
// without a CA or an SVID outside the trust domain is an error at its line,
// and builds the identity the gateway serves. An identity from the
// Workload API is the gateway's to build, from what the API sends.
func (c *checker) checkIdentityBlock() {
	spec := c.f.Identity
	if spec == nil {
		return
	}
	s := c.scope("identity", spec)
	fill(&spec.TrustDomain, defaultTrustDomain)
	td, err := spiffeid.TrustDomainFromString(spec.TrustDomain)
	if err != nil {
		s.errorf(&spec.TrustDomain, "trust_domain: %v", err)
	}
	seen := map[spiffeid.TrustDomain]bool{td: true}
	var aliases []spiffeid.TrustDomain
	for i, a := range spec.TrustDomainAliases {
		if alias, ok := c.trustDomain(s, &spec.TrustDomainAliases[i], fmt.Sprintf("trust_domain_aliases[%d]", i), seen); ok {
			aliases = append(aliases, alias)
		} else if a == "" {
			s.errorf(&spec.TrustDomainAliases[i], "trust_domain_aliases[%d]: must not be empty", i)
		}
	}
	if spec.WorkloadAPI != nil {
		c.checkWorkloadAPI(s, spec) // the gateway builds the identity from the stream
		return
	}
	svid := c.readSVID(s, &spec.SVID)
	var own *x509bundle.Bundle
	if spec.Bundle == "" {
		s.errorf(spec, "bundle: is required: the PEM file of the trust domain's CA certificates")
	} else if err == nil {
		own = c.readBundle(s, td, &spec.Bundle, "bundle")
	}
	var federated []*x509bundle.Bundle
	for i := range spec.FederatedBundles {
		fb := &spec.FederatedBundles[i]
		field := fmt.Sprintf("federated_bundles[%d]", i)
		ftd, ok := c.trustDomain(s, &fb.TrustDomain, field+".trust_domain", seen)
		switch {
		case fb.TrustDomain == "":
			s.errorf(fb, "%s: needs trust_domain", field)
		case fb.Bundle == "":
			s.errorf(fb, "%s: needs bundle", field)
		case ok:
			if b := c.readBundle(s, ftd, &fb.Bundle, field+".bundle"); b != nil {
				federated = append(federated, b)
			}
		}
	}
	if svid == nil || own == nil {
		return
	}
	if err := identity.CheckSVID(svid, own, time.Now()); err != nil {
		s.errorf(&spec.SVID.Cert, "svid: %v", err)
		return
	}
	if len(federated) == len(spec.FederatedBundles) && len(aliases) == len(spec.TrustDomainAliases) {
		// New fails only on a trust domain given twice, refused above.
		c.identity, _ = identity.New(svid, own, aliases, federated...)
	}
}

// trustDomain parses a trust domain that is not among seen, and adds it.
func (c *checker) trustDomain(s scope, v *string, field string, seen map[spiffeid.TrustDomain]bool) (spiffeid.TrustDomain, bool) {
	if *v == "" {
		return spiffeid.TrustDomain{}, false
	}
	td, err := spiffeid.TrustDomainFromString(*v)
	switch {
	case err != nil:
		s.errorf(v, "%s: %v", field, err)
		return td, false
	case seen[td]:
		s.errorf(v, "%s: trust domain %s is given twice", field, td.Name())
		return td, false
	}
	seen[td] = true
	return td, true
}

// readSVID reads the SVID's certificate and key and checks them as an
// X.509-SVID; it returns nil after reporting what is wrong.
func (c *checker) readSVID(s scope, ck *CertKey) *identity.SVID {
	if ck.Cert == "" || ck.Key == "" {
		s.errorf(ck, "svid: needs both cert and key")
		return nil
	}
	certPEM, err := readPEM(ck.Cert, c.abs(ck.Cert))
	if err != nil {
		s.errorf(&ck.Cert, "svid.cert: %v", err)
	}
	keyPEM, kerr := readPEM(ck.Key, c.abs(ck.Key))
	if kerr != nil {
		s.errorf(&ck.Key, "svid.key: %v", kerr)
	}
	ck.Cert, ck.Key = c.abs(ck.Cert), c.abs(ck.Key)
	if err != nil || kerr != nil {
		return nil
	}
	svid, err := identity.ParseSVID(certPEM, keyPEM)
	if err != nil {
		s.errorf(ck, "svid: %v", err)
		return nil
	}
	return svid
}

// readBundle reads a trust domain's bundle file; it returns nil after
// reporting what is wrong.
func (c *checker) readBundle(s scope, td spiffeid.TrustDomain, path *string, field string) *x509bundle.Bundle {
	written := *path
	*path = c.abs(*path)
	data, err := readPEM(written, *path)
	if err != nil {
		s.errorf(path, "%s: %v", field, err)
		return nil
	}
	b, err := identity.ParseBundle(td, data)
	if err != nil {
		s.errorf(path, "%s: %q: %v", field, written, err)
		return nil
	}
	return b
}
