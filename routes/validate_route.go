package routes

import (
	"errors"
	"slices"
	"strings"
	"time"
)

func (c *checker) checkRoute(s scope, r *Route) {
	actions := 0
	for _, set := range []bool{r.Upstream != "", r.Redirect != nil, r.DirectResponse != nil} {
		if set {
			actions++
		}
	}
	switch {
	case actions == 0:
		s.errorf(r, "needs one of upstream, redirect and direct_response")
	case actions > 1:
		s.errorf(r, "set only one of upstream, redirect and direct_response")
	}
	if r.Upstream != "" && c.upstreams[r.Upstream] == nil {
		s.errorf(&r.Upstream, "upstream %q is not defined", r.Upstream)
	}
	if r.PrefixRewrite != "" && (r.Upstream == "" || r.Match.PathPrefix == "") {
		s.errorf(&r.PrefixRewrite, "prefix_rewrite: needs match.path_prefix and an upstream")
	}
	if _, err := NormalizePath(r.PrefixRewrite, PathOptions{}); r.PrefixRewrite != "" && err != nil {
		// The rewritten path is forwarded as the request target.
		s.errorf(&r.PrefixRewrite, "prefix_rewrite: %q: %v", r.PrefixRewrite, err)
	}
	if r.HostRewrite != "" && r.Upstream == "" {
		s.errorf(&r.HostRewrite, "host_rewrite: needs an upstream")
	}
	if r.Timeout != 0 && r.Upstream == "" {
		s.errorf(&r.Timeout, "timeout: needs an upstream")
	}
	if r.Retries != nil {
		c.checkRetries(s, r)
	}
	checkUpgrades(s, r)
	c.checkMatch(s, r)
	if r.Redirect != nil {
		checkRedirect(s, r.Redirect, r.Match.PathPrefix != "")
	}
	switch d := r.DirectResponse; {
	case d == nil:
	case d.Status == 0:
		s.errorf(d, "direct_response.status: is required")
	case d.Status < 200 || d.Status > 599:
		s.errorf(&d.Status, "direct_response.status: must be 200-599, got %d", d.Status)
	}
	c.checkPluginList(s, r.Plugins)
}

// checkMatch compiles a route's match. Methods must be upper case: they are
// compared with the request's exactly, and clients send them upper case.
func (c *checker) checkMatch(s scope, r *Route) {
	if c.failed[&r.Match] {
		return
	}
	for i, m := range r.Match.Methods {
		if validToken(m) && strings.ToUpper(m) != m {
			s.errorf(&r.Match.Methods[i], "match.methods[%d]: %q must be upper case", i, m)
		}
		if m == "CONNECT" {
			// A tunnel to an authority of the client's choosing is the
			// egress listener's business; ingress refuses it unrouted.
			s.errorf(&r.Match.Methods[i], "match.methods[%d]: CONNECT is never routed (listeners answer it 405)", i)
		}
	}
	m, err := compileMatch(r.Match)
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		s.errorAt(fieldNode(c.pos[&r.Match], fe.field, c.pos[r]), join("match."+fe.field, fe.msg))
	case err != nil:
		s.errorf(&r.Match, "match: %v", err)
	default:
		c.matches[r] = m
	}
}

func checkRedirect(s scope, rd *Redirect, hasPrefix bool) {
	if rd.Code == 0 {
		rd.Code = 301
	}
	if !slices.Contains([]int{301, 302, 303, 307, 308}, rd.Code) {
		s.errorf(&rd.Code, "redirect.code: must be 301, 302, 303, 307 or 308, got %d", rd.Code)
	}
	if rd.Scheme != "" && rd.Scheme != "http" && rd.Scheme != "https" {
		s.errorf(&rd.Scheme, "redirect.scheme: must be http or https, got %q", rd.Scheme)
	}
	if rd.Port < 0 || rd.Port > 65535 {
		s.errorf(&rd.Port, "redirect.port: must be 1-65535, got %d", rd.Port)
	}
	if rd.Path != "" && !strings.HasPrefix(rd.Path, "/") {
		s.errorf(&rd.Path, "redirect.path: must start with /, got %q", rd.Path)
	}
	switch {
	case rd.PrefixRewrite != "" && rd.Path != "":
		s.errorf(&rd.PrefixRewrite, "redirect.prefix_rewrite: cannot be used with redirect.path")
	case rd.PrefixRewrite != "" && !hasPrefix:
		s.errorf(&rd.PrefixRewrite, "redirect.prefix_rewrite: needs match.path_prefix")
	}
}

// retryConditions are the retry conditions a route may name besides status
// codes, with Envoy's names.
var retryConditions = []string{"connect-failure", "refused-stream", "reset", "5xx", "gateway-error"}

// checkRetries checks a route's retry policy and fills in its defaults:
// two retries on connect-failure, refused-stream and 503, Istio's default.
func (c *checker) checkRetries(s scope, r *Route) {
	p := r.Retries
	if r.Upstream == "" {
		s.errorf(p, "retries: needs an upstream")
	}
	if p.Attempts < 0 || p.Attempts > 10 {
		s.errorf(&p.Attempts, "retries.attempts: must be 1-10, got %d", p.Attempts)
	}
	fill(&p.Attempts, 2)
	switch {
	case p.On == nil:
		p.On = []string{"connect-failure", "refused-stream", "503"}
	case len(p.On) == 0:
		s.errorf(&p.On, "retries.on: must not be empty")
	}
	for i, on := range p.On {
		if _, err := parseStatus(on); err != nil && !slices.Contains(retryConditions, on) {
			s.errorf(&p.On[i], "retries.on[%d]: unknown condition %q (want %s or a status code such as 503)", i, on, strings.Join(retryConditions, ", "))
		}
	}
	b := &p.Backoff
	fill(&b.Base, Duration(25*time.Millisecond))
	fill(&b.Max, 10*b.Base)
	if b.Max < b.Base {
		s.errorf(&b.Max, "retries.backoff.max: must be at least base (%s), got %s", b.Base, b.Max)
	}
	timeout := r.Timeout
	if up := c.upstreams[r.Upstream]; timeout == 0 && up != nil {
		timeout = up.Timeout
	}
	if timeout != 0 && p.PerTryTimeout > timeout {
		s.errorf(&p.PerTryTimeout, "retries.per_try_timeout: must not exceed the timeout (%s), got %s", timeout, p.PerTryTimeout)
	}
}
