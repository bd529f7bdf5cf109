// Package jwt enforces Istio's RequestAuthentication: it finds the JSON Web
// Tokens a request carries, verifies each against the jwtRule of its issuer
// with the issuer's keys (inline, or fetched from jwksUri and kept fresh),
// and tells later plugins who the end user is (plugins.Request.Auth), as
// Envoy's jwt_authn filter does for Istio.
//
// A request without a token passes unauthenticated; a token that fails is
// refused with Envoy's status and words (401, or 403 for an audience not
// allowed). Requiring a token is AuthorizationPolicy's business
// (requestPrincipals), as in Istio.
//
// Compile builds a Set from the RequestAuthentication documents of the
// policies files; Set.For builds the handler of one workload (an upstream's
// namespace and labels). README.md in this folder is the user's guide.
package jwt

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/portcullis-gw/portcullis/plugins"
)

// MetadataNamespace is the access log's dynamic metadata namespace in which
// the handler records the principal a verified token proved:
// %DYNAMIC_METADATA(portcullis.jwt:principal)%.
const MetadataNamespace = "portcullis.jwt"

// Handler verifies the tokens of the requests to one workload.
type Handler struct {
	rules []*provider
	locs  locations
	// sanitize are the headers the rules write from a verified token; a
	// client's own are removed from every request, so that none can pass
	// for the gateway's.
	sanitize []string
	opts     *Options
	set      *Set // held until Close
	closed   atomic.Bool
	// cache holds tokens whose signature verified, by their exact text,
	// as Envoy's jwt_cache does: a client sends the same token with
	// every request, and its signature need not be checked again while
	// the keys that verified it are the current ones. Times are checked
	// on every use.
	cache *lru.Cache[string, cached]
}

// cacheSize is how many verified tokens a handler keeps (Envoy's default
// jwt_cache_size is 100).
const cacheSize = 128

// cached is a token that verified, the rule that passed it and the keys
// that verified it.
type cached struct {
	tok  *token
	p    *provider
	keys *keySet
}

var (
	_ plugins.Handler = (*Handler)(nil)
	_ io.Closer       = (*Handler)(nil)
)

// Close lets go of the Set the handler was built from: once none holds
// it, its key fetches stop. It is safe to call more than once.
func (h *Handler) Close() error {
	if h != nil && h.closed.CompareAndSwap(false, true) {
		return h.set.release()
	}
	return nil
}

// newHandler builds the handler of rules, holding set until its Close.
func newHandler(set *Set, rules []*provider) *Handler {
	cache, _ := lru.New[string, cached](cacheSize) // errs only for a size <= 0
	set.retain()
	h := &Handler{rules: rules, opts: &set.opts, set: set, cache: cache}
	for _, p := range rules {
		r := p.rule
		for _, fh := range r.FromHeaders {
			h.locs.add(p, location{kind: inHeader, name: strings.ToLower(fh.Name), prefix: fh.Prefix})
		}
		for _, q := range r.FromParams {
			h.locs.add(p, location{kind: inParam, name: q})
		}
		for _, c := range r.FromCookies {
			h.locs.add(p, location{kind: inCookie, name: c})
		}
		if len(r.FromHeaders)+len(r.FromParams)+len(r.FromCookies) == 0 {
			// Envoy's default locations.
			h.locs.add(p, location{kind: inHeader, name: "authorization", prefix: "Bearer "})
			h.locs.add(p, location{kind: inParam, name: "access_token"})
		}
		if p.payloadHeader != "" {
			h.sanitize = append(h.sanitize, p.payloadHeader)
		}
		for _, c := range p.claimHeaders {
			h.sanitize = append(h.sanitize, c.header)
		}
	}
	// Envoy looks at headers, then parameters, then cookies.
	var ordered locations
	for kind := inHeader; kind <= inCookie; kind++ {
		for _, l := range h.locs {
			if l.kind == kind {
				ordered = append(ordered, l)
			}
		}
	}
	h.locs = ordered
	return h
}

// HandleRequest verifies every token the request carries. With none it
// passes and leaves req.Auth nil; with all valid it sets req.Auth from the
// first, writes the rules' output headers and, unless a rule forwards it,
// removes each token; with any invalid it returns Envoy's rejection.
// The Audiences and Claims of req.Auth are shared by the requests that
// carry the same token: later plugins read them and never change them.
func (h *Handler) HandleRequest(ctx context.Context, req *plugins.Request) error {
	if h == nil {
		return nil
	}
	hdr := req.Header()
	for _, name := range h.sanitize {
		hdr.Del(name)
	}
	m := h.opts.metrics
	if corsPreflight(req) {
		m.preflight.Inc()
		return nil // a preflight carries no credentials (Envoy's bypass_cors_preflight, on in Istio)
	}
	var buf [2]found
	tokens, ok := h.locs.extract(req, buf[:0])
	if !ok {
		return h.reject(req, statusMultipleTokens)
	}
	if len(tokens) == 0 {
		m.missing.Inc()
		return nil
	}
	results := make([]verified, len(tokens))
	for i := range tokens {
		v, st := h.verify(ctx, &tokens[i])
		if st != "" {
			return h.reject(req, st)
		}
		results[i] = v
	}
	for i := range results {
		if err := h.output(req, &tokens[i], &results[i]); err != nil {
			return err
		}
	}
	first := &results[0]
	t := first.tok
	req.Auth = &plugins.RequestAuth{
		Principal: t.iss + "/" + t.sub,
		Audiences: t.aud,
		Claims:    splitClaims(t.claims, first.p.split),
	}
	if azp, ok := t.claims["azp"].(string); ok {
		req.Auth.Presenter = azp
	}
	req.Metadata.Set(MetadataNamespace, "principal", req.Auth.Principal)
	m.allowed.Inc()
	return nil
}

// verified is a token that passed, with the rule that passed it.
type verified struct {
	tok *token
	p   *provider
}

// verify checks one token in Envoy's order: its form, its issuer (one
// whose rule names the place it was found), its times, its audience, then
// its signature. A token found in the cache skips its form and signature.
func (h *Handler) verify(ctx context.Context, f *found) (verified, string) {
	if len(f.raw) > h.opts.MaxTokenBytes {
		return verified{}, statusVerificationFail
	}
	c, hit := h.cache.Get(f.raw)
	t := c.tok
	if hit {
		h.opts.metrics.hit.Inc()
	} else {
		h.opts.metrics.miss.Inc()
		var st string
		// The cache keeps the token past this request: it must not share
		// the request's bytes, which the engine reuses.
		if t, st = parseToken(strings.Clone(f.raw)); st != "" {
			return verified{}, st
		}
	}
	if !f.loc.iss.allow(t.iss) {
		return verified{}, statusUnknownIssuer
	}
	p := f.loc.rule(t.iss)
	if p == nil {
		return verified{}, statusUnknownIssuer
	}
	now := h.opts.Now().Unix()
	skew := int64(h.opts.ClockSkew.Seconds())
	if now+skew < t.nbf {
		return verified{}, statusNotYetValid
	}
	if t.exp != 0 && now > t.exp+skew {
		return verified{}, statusExpired
	}
	if !audienceAllowed(p.audiences, t.aud) {
		return verified{}, statusAudience
	}
	if st := t.signed(); st != "" {
		return verified{}, st
	}
	ks, st := p.keys.keys(ctx, t.kid)
	if st != "" {
		return verified{}, st
	}
	if hit && c.p == p && c.keys == ks {
		return verified{t, p}, ""
	}
	if st := ks.verify(t); st != "" {
		return verified{}, st
	}
	h.cache.Add(t.raw, cached{t, p, ks})
	return verified{t, p}, ""
}

// output writes a verified token's headers and removes the token unless
// its rule forwards it.
func (h *Handler) output(req *plugins.Request, f *found, v *verified) error {
	hdr := req.Header()
	p := v.p
	if p.payloadHeader != "" {
		hdr.Add(p.payloadHeader, strings.TrimRight(v.tok.payload, "="))
	}
	for _, c := range p.claimHeaders {
		if val, ok := lookupClaim(v.tok.claims, c.path); ok {
			if s, ok := claimValue(val); ok {
				hdr.Add(c.header, s)
			}
		}
	}
	if p.forward {
		return nil
	}
	return f.remove(req)
}

// corsPreflight reports whether req is a CORS preflight: OPTIONS with
// Origin and Access-Control-Request-Method.
func corsPreflight(req *plugins.Request) bool {
	h := req.Header()
	return req.Method() == http.MethodOptions && h.Get("Origin") != "" && h.Get("Access-Control-Request-Method") != ""
}

// quoteEscaper escapes a realm for its quoted string.
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// maxRealmPath is how much of the path Envoy puts in the realm.
const maxRealmPath = 256

// reject is Envoy's answer to a token that failed: 401 (403 for an
// audience not allowed) with the status as the body, a WWW-Authenticate
// challenge naming the request's URI, and the status in the access log's
// details with '_' for ' '.
func (h *Handler) reject(req *plugins.Request, st string) error {
	h.opts.metrics.deny(st)
	code := http.StatusUnauthorized
	if st == statusAudience {
		code = http.StatusForbidden
	}
	path := req.Path()
	if q := req.Query(); q != "" {
		path += "?" + q
	}
	if len(path) > maxRealmPath {
		path = path[:maxRealmPath]
	}
	realm := req.Scheme() + "://" + req.Authority() + path
	realm = quoteEscaper.Replace(realm)
	return &plugins.Reject{
		Status:  code,
		Body:    st,
		Details: "jwt_authn_access_denied{" + strings.ReplaceAll(st, " ", "_") + "}",
		Header:  http.Header{"Www-Authenticate": {`Bearer realm="` + realm + `", error="invalid_token"`}},
	}
}
