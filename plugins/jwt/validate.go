package jwt

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/portcullis-gw/portcullis/plugins"
)

// validate checks a decoded spec as istiod's ValidateRequestAuthentication
// does, and what this gateway adds: a JWKS it can use, fetched over HTTPS.
func (f *specFile) validate(sp *spec) {
	if sp.Selector != nil && (sp.TargetRef != nil || len(sp.TargetRefs) > 0) {
		f.fail("selector", "only one of targetRefs or workloadSelector can be set")
	}
	if sp.TargetRef != nil && len(sp.TargetRefs) > 0 {
		f.fail("targetRef", "only one of targetRef or targetRefs can be set")
	}
	if len(sp.JWTRules) > maxJWTRules {
		f.fail("jwtRules", "at most %d rules are allowed, got %d", maxJWTRules, len(sp.JWTRules))
	}
	for i, r := range sp.JWTRules {
		at := fmt.Sprintf("jwtRules[%d]", i)
		if r == nil {
			f.fail(at, "rule must not be null")
			continue
		}
		f.validateRule(at, r)
	}
}

func (f *specFile) validateRule(at string, r *jwtRule) {
	for i, a := range r.Audiences {
		if a == "" {
			f.fail(fmt.Sprintf("%s.audiences[%d]", at, i), "audience must be non-empty string")
		}
	}
	if r.Issuer == "" && r.JwksURI == "" {
		f.fail(at+".issuer", "issuer or jwksUri must be non-empty string")
	}
	switch {
	case r.Jwks != "" && r.JwksURI != "":
		f.fail(at+".jwks", "only one of jwks or jwksUri can be set")
	case r.Jwks != "":
		// Written inline, every key must be usable: a key the gateway
		// would skip is a mistake in the file.
		if _, skipped, err := parseJWKS([]byte(r.Jwks)); err != nil {
			f.fail(at+".jwks", "jwks parse error: %v", err)
		} else if len(skipped) > 0 {
			f.fail(at+".jwks", "jwks parse error: %s", oneLine(skipped))
		}
	case r.JwksURI != "":
		if err := checkJwksURI(r.JwksURI); err != nil {
			f.fail(at+".jwksUri", "%v", err)
		}
	default:
		// The keys are found through the issuer's OpenID configuration,
		// as istiod finds them: the issuer must be a URL to fetch.
		if r.Issuer != "" && checkJwksURI(r.Issuer) != nil {
			f.fail(at+".issuer", "issuer %q is no https URL to discover keys from: set jwks or jwksUri", r.Issuer)
		}
	}
	for i, h := range r.FromHeaders {
		hat := fmt.Sprintf("%s.fromHeaders[%d]", at, i)
		switch {
		case h == nil:
			f.fail(hat, "location header name must be non-null")
		case h.Name == "":
			f.fail(hat+".name", "location header name must be non-empty string")
		case !httpguts.ValidHeaderFieldName(h.Name):
			f.fail(hat+".name", "header name %q is not a valid HTTP token", h.Name)
		default:
			f.checkHeaderName(hat+".name", h.Name)
		}
	}
	for i, p := range r.FromParams {
		if p == "" {
			f.fail(fmt.Sprintf("%s.fromParams[%d]", at, i), "location query must be non-empty string")
		}
	}
	for i, c := range r.FromCookies {
		if c == "" {
			f.fail(fmt.Sprintf("%s.fromCookies[%d]", at, i), "cookie name must be non-empty string")
		}
	}
	if h := r.OutputPayloadToHeader; h != "" {
		if !httpguts.ValidHeaderFieldName(h) {
			f.fail(at+".outputPayloadToHeader", "header name %q is not a valid HTTP token", h)
		} else {
			f.checkHeaderName(at+".outputPayloadToHeader", h)
		}
	}
	for i, c := range r.OutputClaimToHeaders {
		cat := fmt.Sprintf("%s.outputClaimToHeaders[%d]", at, i)
		switch {
		case c == nil:
			f.fail(cat, "outputClaimToHeaders must not be null")
		case c.Claim == "" || c.Header == "":
			f.fail(cat, "outputClaimToHeaders header and claim value must be non-empty string")
		case !strictHeaderName(c.Header):
			f.fail(cat+".header", "header name %q is not a valid HTTP header name", c.Header)
		default:
			f.checkHeaderName(cat+".header", c.Header)
		}
	}
	if r.Timeout != "" {
		if d, err := time.ParseDuration(r.Timeout); err != nil || d <= 0 {
			f.fail(at+".timeout", "must be a positive duration such as 5s, got %q", r.Timeout)
		}
	}
}

// strictHeaderName is Istio's ValidateStrictHTTPHeaderName: a token that
// does not start with ':' (no pseudo-headers).
func strictHeaderName(name string) bool {
	return httpguts.ValidHeaderFieldName(name) && !strings.HasPrefix(name, ":")
}

// reserved are the headers a rule may neither take a token from (which
// removes it) nor write: the gateway's own framing and hop-by-hop fields,
// in any case and with '_' for '-', as the headers plugin refuses them.
var reserved = []string{"host", "content-length", "connection", "keep-alive", "proxy-connection",
	"transfer-encoding", "upgrade", "te", "trailer", "proxy-authenticate", "proxy-authorization"}

// checkHeaderName fails the field when name is reserved.
func (f *specFile) checkHeaderName(field, name string) {
	for _, r := range reserved {
		if plugins.SameHeaderName(name, r) {
			f.fail(field, "header %q cannot be used: the gateway manages it itself", name)
			return
		}
	}
}

// checkJwksURI accepts what Istio's ParseJwksURI accepts, except plain http
// to anything but a loopback host: keys fetched in the clear let anyone on
// the path sign tokens the gateway trusts.
func checkJwksURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid jwks uri %q: %v", raw, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("invalid jwks uri %q: no host", raw)
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return fmt.Errorf("invalid jwks uri %q: bad port %q", raw, p)
		}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("jwks uri %q must use https (plain http is accepted only for a loopback host)", raw)
	}
	return fmt.Errorf("invalid jwks uri %q: scheme must be http or https", raw)
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
