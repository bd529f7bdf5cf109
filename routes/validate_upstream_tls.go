package routes

import (
	"fmt"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// checkUpstreamTLS checks an upstream's tls block by its mode. A block in
// mode disable is dropped once checked: the upstream speaks plain HTTP.
func (c *checker) checkUpstreamTLS(s scope, u *UpstreamSpec) {
	t := u.TLS
	s.oneOf("tls.mode", &t.Mode, "simple", "mutual", "disable")
	switch t.Mode {
	case "mutual":
		if c.f.Identity == nil {
			s.errorf(&t.Mode, "tls.mode: mutual needs the identity block, whose SVID the gateway presents and whose bundles verify the upstream")
		}
		if t.CAFile != "" {
			s.errorf(&t.CAFile, "tls.ca_file: cannot be used with mode mutual: the identity block's bundles verify the upstream")
		}
		for i := range t.ExpectPrincipals {
			checkPrincipal(s, &t.ExpectPrincipals[i], fmt.Sprintf("tls.expect_principals[%d]", i))
		}
	default:
		c.checkCAFile(s, t)
		if len(t.ExpectPrincipals) > 0 {
			s.errorf(&t.ExpectPrincipals, "tls.expect_principals: needs mode mutual")
		}
		if t.IstioALPN {
			s.errorf(&t.IstioALPN, "tls.istio_alpn: needs mode mutual")
		}
	}
	for i, p := range t.ALPN {
		if p == "" || len(p) > 255 {
			s.errorf(&t.ALPN[i], "tls.alpn[%d]: must be 1 to 255 bytes", i)
		}
	}
	if t.IstioALPN && len(t.ALPN) > 0 {
		s.errorf(&t.IstioALPN, "tls.istio_alpn: cannot be used with alpn")
	}
	if t.Mode == "disable" {
		if t.CAFile != "" || t.ServerName != "" || len(t.ALPN) > 0 {
			s.errorf(t, "tls: mode disable takes no other setting")
		}
		u.TLS = nil
	}
}

// checkPrincipal checks a principal as Istio writes it: a SPIFFE ID without
// its scheme.
func checkPrincipal(s scope, p *string, field string) {
	if strings.HasPrefix(*p, "spiffe://") {
		s.errorf(p, "%s: write %q without spiffe://, as Istio writes principals", field, *p)
		return
	}
	id, err := spiffeid.FromString("spiffe://" + *p)
	switch {
	case err != nil:
		s.errorf(p, "%s: %q is not a SPIFFE ID without its scheme: %v", field, *p, err)
	case id.Path() == "":
		s.errorf(p, "%s: %q names a trust domain, not a workload", field, *p)
	}
}
