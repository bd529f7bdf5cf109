// Package peers holds the configurations the bench starts its contenders
// with: nginx, HAProxy and Caddy as their docs recommend for reverse
// proxying, and the gateway's own routes file, as text templates filled in
// with the ports, files and worker count of one run, and for the reload
// scenario with one of two variants that differ only in a response header.
// In the WAF scenarios the gateway runs a WAF profile and nginx runs
// ModSecurity v3 with the same settings (modsecurity.conf.tmpl). In the
// egress scenarios the gateway's forward proxy and squid allow tunnels to
// the backend only.
// install.sh beside them installs the peers from Debian's packages.
package peers

import (
	"bytes"
	"embed"
	"fmt"
	"net"
	"text/template"
)

//go:embed *.tmpl Caddyfile.tmpl
var files embed.FS

// Params are the values a configuration is filled in with.
type Params struct {
	// Dir is the instance's own directory: pid file, temp files, error log.
	Dir string
	// Listen is the plain HTTP/1.1 address, ListenTLS the TLS one (HTTP/1.1
	// and HTTP/2, and HTTP/3 on UDP when H3 is set).
	Listen, ListenTLS string
	// Upstream is the backend's plain HTTP/1.1 address, UpstreamTLS its TLS
	// one (the egress scenarios' forward proxies allow tunnels to both).
	Upstream, UpstreamTLS string
	// Cert and Key are PEM files; CertKey is both in one file, as HAProxy
	// wants them.
	Cert, Key, CertKey string
	// AccessLog is the file every request is logged to.
	AccessLog string
	// Workers is the number of worker processes or threads: the number of
	// cores the proxy is given.
	Workers int
	// MaxConns is the number of client connections to allow; NoFile the
	// open-file limit the proxy runs under, which caps it.
	MaxConns, NoFile int
	H3               bool
	// HTTP2On selects nginx's `http2 on;` (1.25.1 and later) over the older
	// `listen … http2`.
	HTTP2On bool
	// Variant is set only in the reload scenario, which alternates two
	// variants of each configuration: it is the value of the X-Bench-Config
	// response header, so a probe can tell which variant answers.
	Variant string
	// Admin is Caddy's admin address in the reload scenario, which reloads
	// Caddy through its admin API; empty turns the admin endpoint off.
	Admin string
	// WAF is set in the WAF scenarios: the gateway inspects every request
	// with a WAF profile, and nginx with ModSecurity, both with these
	// settings.
	WAF *WAF
}

// WAF are the settings both sides of a WAF scenario share, the profile's
// and the CRS's, and where nginx finds ModSecurity and the rules.
type WAF struct {
	// Paranoia is the CRS's paranoia level, blocking and executing.
	Paranoia int
	// InboundThreshold and OutboundThreshold are the CRS's anomaly
	// thresholds.
	InboundThreshold, OutboundThreshold int
	// BodyLimit is the request body read (past it the request is
	// refused); InspectedBytes, Args and Depth the profile's limits on
	// what the rules inspect.
	BodyLimit, InspectedBytes, Args, Depth int
	// Module is nginx's ModSecurity module; RulesFile the ModSecurity
	// configuration rendered from ModSecurity, which includes CRSSetup and
	// then CRSRules (a glob). CRS3 selects CRS 3's names of the paranoia
	// variables; UnicodeMap is ModSecurity's unicode.mapping, if found.
	Module, RulesFile, CRSSetup, CRSRules string
	CRS3                                  bool
	UnicodeMap                            string
}

// Names are the templates' file names.
const (
	Nginx      = "nginx.conf.tmpl"
	HAProxy    = "haproxy.cfg.tmpl"
	Caddy      = "Caddyfile.tmpl"
	Portcullis = "portcullis.yaml.tmpl"
	// PortcullisEgress and Squid are the forward proxies of the egress
	// scenarios.
	PortcullisEgress = "portcullis-egress.yaml.tmpl"
	Squid            = "squid.conf.tmpl"
	// ModSecurity is nginx's ModSecurity configuration in the WAF
	// scenarios.
	ModSecurity = "modsecurity.conf.tmpl"
)

var funcs = template.FuncMap{
	"sub": func(a, b int) int { return a - b },
	"add": func(a, b int) int { return a + b },
	"port": func(addr string) (string, error) {
		_, p, err := net.SplitHostPort(addr)
		return p, err
	},
}

// Render fills in the named template.
func Render(name string, p Params) ([]byte, error) {
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").ParseFS(files, name)
	if err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("peers: %s: %w", name, err)
	}
	return b.Bytes(), nil
}
