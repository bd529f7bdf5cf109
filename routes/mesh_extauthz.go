package routes

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/portcullis-gw/portcullis/plugins"
)

// ExtensionProvider is one entry of mesh.extension_providers, Istio's
// meshConfig.extensionProviders in the routes file's snake_case. Only
// envoy_ext_authz_http, which CUSTOM policies name, is known.
type ExtensionProvider struct {
	Name string        `yaml:"name" json:"name"`
	HTTP *ExtAuthzHTTP `yaml:"envoy_ext_authz_http" json:"envoy_ext_authz_http,omitempty"`
}

// ExtAuthzHTTP is Istio's EnvoyExternalAuthorizationHttpProvider. Service
// names an upstream of the routes file, so that the checks use its pool:
// its endpoints, TLS or mutual TLS, health checks and limits. Istio's port
// is the upstream's endpoints': Port is read only to say so.
type ExtAuthzHTTP struct {
	Service       string   `yaml:"service" json:"service"`
	Port          int      `yaml:"port" json:"port,omitempty"`
	PathPrefix    string   `yaml:"path_prefix" json:"path_prefix,omitempty"`
	Timeout       Duration `yaml:"timeout" json:"timeout"` // default 600s, as Istio's
	FailOpen      bool     `yaml:"fail_open" json:"fail_open"`
	StatusOnError string   `yaml:"status_on_error" json:"status_on_error"` // default "403"

	IncludeRequestHeadersInCheck    []string          `yaml:"include_request_headers_in_check" json:"include_request_headers_in_check,omitempty"`
	IncludeAdditionalHeadersInCheck map[string]string `yaml:"include_additional_headers_in_check" json:"include_additional_headers_in_check,omitempty"`
	HeadersToUpstreamOnAllow        []string          `yaml:"headers_to_upstream_on_allow" json:"headers_to_upstream_on_allow,omitempty"`
	HeadersToDownstreamOnDeny       []string          `yaml:"headers_to_downstream_on_deny" json:"headers_to_downstream_on_deny,omitempty"`
	IncludeRequestBodyInCheck       *ExtAuthzBody     `yaml:"include_request_body_in_check" json:"include_request_body_in_check,omitempty"`
}

// ExtAuthzBody is Istio's includeRequestBodyInCheck.
type ExtAuthzBody struct {
	MaxRequestBytes     int64 `yaml:"max_request_bytes" json:"max_request_bytes"`
	AllowPartialMessage bool  `yaml:"allow_partial_message" json:"allow_partial_message"`
}

// defaultExtAuthzTimeout is Istio's default for an HTTP provider's timeout.
const defaultExtAuthzTimeout = Duration(600 * time.Second)

// checkExtensionProviders validates mesh.extension_providers, after the
// upstreams, which their services name.
func (c *checker) checkExtensionProviders() {
	m := c.f.Mesh
	if m == nil {
		return
	}
	seen := make(map[string]bool)
	for i := range m.ExtensionProviders {
		p := &m.ExtensionProviders[i]
		s := c.scope(fmt.Sprintf("mesh.extension_providers[%d]", i), p)
		switch {
		case p.Name == "":
			s.errorf(&p.Name, "name: must not be empty")
		case seen[p.Name]:
			s.errorf(&p.Name, "name: %q is defined twice", p.Name)
		}
		seen[p.Name] = true
		if p.HTTP == nil {
			s.errorf(p, "envoy_ext_authz_http: must be set (the only provider kind the gateway has)")
			continue
		}
		c.checkExtAuthzHTTP(c.scope(s.label+".envoy_ext_authz_http", p.HTTP), p.HTTP)
	}
}

func (c *checker) checkExtAuthzHTTP(s scope, h *ExtAuthzHTTP) {
	switch {
	case h.Service == "":
		s.errorf(&h.Service, "service: must name an upstream of this file")
	case c.upstreams[h.Service] == nil:
		s.errorf(&h.Service, "service: no upstream %q (want the name of an upstream of this file)", h.Service)
	}
	if h.Port != 0 {
		s.errorf(&h.Port, "port: the endpoints of upstream %q give the port; leave it out", h.Service)
	}
	if h.PathPrefix != "" && !strings.HasPrefix(h.PathPrefix, "/") {
		s.errorf(&h.PathPrefix, "path_prefix: must begin with `/`, got %q", h.PathPrefix)
	}
	if strings.ContainsAny(h.PathPrefix, "?# \t\r\n") {
		s.errorf(&h.PathPrefix, "path_prefix: must be a path without query, fragment or spaces, got %q", h.PathPrefix)
	}
	fill(&h.Timeout, defaultExtAuthzTimeout)
	fill(&h.StatusOnError, "403")
	if n, ok := atoiStatus(h.StatusOnError); !ok || n < 200 || n > 599 {
		s.errorf(&h.StatusOnError, "status_on_error: want an HTTP status 200 to 599, got %q", h.StatusOnError)
	}
	for _, l := range []struct {
		name string
		v    []string
	}{
		{"include_request_headers_in_check", h.IncludeRequestHeadersInCheck},
		{"headers_to_upstream_on_allow", h.HeadersToUpstreamOnAllow},
		{"headers_to_downstream_on_deny", h.HeadersToDownstreamOnDeny},
	} {
		for j, v := range l.v {
			if !headerPattern(v) {
				s.errorf(&l.v[j], "%s[%d]: want a header name, prefix* or *suffix, got %q", l.name, j, v)
			}
		}
	}
	for k, v := range h.IncludeAdditionalHeadersInCheck {
		if !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
			s.errorf(&h.IncludeAdditionalHeadersInCheck, "include_additional_headers_in_check: %q is not a valid header field", k)
		}
	}
	if b := h.IncludeRequestBodyInCheck; b != nil && b.MaxRequestBytes <= 0 {
		s.errorf(&b.MaxRequestBytes, "include_request_body_in_check.max_request_bytes: must be > 0, got %d", b.MaxRequestBytes)
	}
}

// headerPattern reports whether v is Istio's header pattern: a name, or a
// name's prefix followed by '*', or '*' followed by its suffix.
func headerPattern(v string) bool {
	name := strings.TrimSuffix(strings.TrimPrefix(v, "*"), "*")
	if len(name) < len(v)-1 {
		return false // *name*
	}
	return name != "" && !strings.Contains(name, "*") && httpguts.ValidHeaderFieldName(name)
}

func atoiStatus(s string) (int, bool) {
	n := 0
	if len(s) != 3 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// extAuthz returns the providers as the plugin that reads policies takes
// them.
func (m *Mesh) extAuthz() []plugins.ExtAuthz {
	var out []plugins.ExtAuthz
	for _, p := range m.ExtensionProviders {
		h := p.HTTP
		if h == nil {
			continue
		}
		status, _ := atoiStatus(h.StatusOnError)
		e := plugins.ExtAuthz{
			Name: p.Name, Upstream: h.Service, PathPrefix: h.PathPrefix,
			Timeout: time.Duration(h.Timeout), FailOpen: h.FailOpen, StatusOnError: status,
			IncludeRequestHeaders:     h.IncludeRequestHeadersInCheck,
			IncludeAdditional:         h.IncludeAdditionalHeadersInCheck,
			HeadersToUpstreamOnAllow:  h.HeadersToUpstreamOnAllow,
			HeadersToDownstreamOnDeny: h.HeadersToDownstreamOnDeny,
		}
		if b := h.IncludeRequestBodyInCheck; b != nil {
			e.Body = &plugins.ExtAuthzBody{MaxRequestBytes: b.MaxRequestBytes, AllowPartial: b.AllowPartialMessage}
		}
		out = append(out, e)
	}
	return out
}
