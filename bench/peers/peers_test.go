package peers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// params are template values for the tests. The addresses are never
// bound: the tests only render and check configurations.
func params(t *testing.T, h3 bool) Params {
	dir := t.TempDir()
	return Params{
		Dir: dir, Listen: "127.0.0.1:18080", ListenTLS: "127.0.0.1:18443", Upstream: "127.0.0.1:19000", UpstreamTLS: "127.0.0.1:19443",
		Cert: filepath.Join(dir, "c.pem"), Key: filepath.Join(dir, "k.pem"), CertKey: filepath.Join(dir, "ck.pem"),
		AccessLog: filepath.Join(dir, "access.log"), Workers: 2, MaxConns: 11000, NoFile: 20000, H3: h3,
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name    string
		tmpl    string
		h3      bool
		variant bool     // the reload scenario's variant "b"
		waf     *WAF     // a WAF scenario's settings
		want    []string // lines the configuration must hold
		not     []string
	}{
		{"nginx", Nginx, false, false, nil, []string{"worker_processes 2;", "listen 127.0.0.1:18443 ssl http2 backlog=4096;",
			"keepalive 256;", "worker_connections 19936;", "server 127.0.0.1:19000;"}, []string{"http3", "http2 on;", "add_header X-Bench-Config", "load_module", "modsecurity on"}},
		{"nginx h3", Nginx, true, false, nil, []string{"listen 127.0.0.1:18443 quic reuseport;", `add_header Alt-Svc 'h3=":18443"; ma=86400';`}, nil},
		{"haproxy", HAProxy, false, false, nil, []string{"nbthread 2", "maxconn 11000", "ulimit-n 20000", "server backend 127.0.0.1:19000"}, []string{"quic4@", "stats socket /", "set-header X-Bench-Config"}},
		{"haproxy h3", HAProxy, true, false, nil, []string{"bind quic4@127.0.0.1:18443"}, nil},
		{"caddy", Caddy, false, false, nil, []string{"http://:18080 {", "https://:18443 {", "protocols h1 h2\n", "reverse_proxy 127.0.0.1:19000 {", "admin off"}, []string{"header X-Bench-Config"}},
		{"caddy h3", Caddy, true, false, nil, []string{"protocols h1 h2 h3"}, nil},
		{"portcullis", Portcullis, true, false, nil, []string{`address: "127.0.0.1:18080"`, "protocols: [http1, http2, http3]", `endpoints: ["127.0.0.1:19000"]`}, []string{"x-bench-config"}},
		{"portcullis egress", PortcullisEgress, false, false, nil, []string{`address: "127.0.0.1:18080"
    kind: forward_proxy`,
			"to: { cidrs: [127.0.0.1/32], ports: [19000, 19443] }", "per_caller: { max_tunnels: 11000, per_second: 1000000 }"}, []string{"upstreams:", "tls:"}},
		{"squid", Squid, false, false, nil, []string{"http_port 127.0.0.1:18080\n", "acl backend dst 127.0.0.1/32\n",
			"acl backend_ports port 19000 19443\n", "http_access allow CONNECT backend backend_ports\nhttp_access deny all\n"}, nil},
		{"nginx variant", Nginx, false, true, nil, []string{"add_header X-Bench-Config b always;"}, nil},
		{"haproxy variant", HAProxy, false, true, nil, []string{"http-response set-header X-Bench-Config b", "expose-fd listeners"}, nil},
		{"caddy variant", Caddy, false, true, nil, []string{"admin 127.0.0.1:12019\n", "header X-Bench-Config b"}, []string{"admin off"}},
		{"portcullis variant", Portcullis, false, true, nil, []string{`set: { x-bench-config: "b" }`}, nil},
		{"nginx waf", Nginx, false, false, testWAF(false), []string{"load_module /m/ngx_http_modsecurity_module.so;\nworker_processes 2;",
			"    modsecurity on;\n    modsecurity_rules_file /d/modsecurity.conf;"}, []string{"add_header X-Bench-Config"}},
		{"modsecurity crs4", ModSecurity, false, false, testWAF(false), []string{"SecRuleEngine On", "SecRequestBodyAccess On",
			"SecRequestBodyLimit 1048576\n", "SecRequestBodyNoFilesLimit 65536\n", "SecRequestBodyJsonDepthLimit 32\n", "SecArgumentsLimit 513\n",
			`SecRule &ARGS "@gt 512"`, "SecResponseBodyAccess Off", "SecAuditEngine Off", "Include /crs/crs-setup.conf\n",
			"setvar:tx.blocking_paranoia_level=2\"", "setvar:tx.detection_paranoia_level=2\"",
			"setvar:tx.inbound_anomaly_score_threshold=5,setvar:tx.outbound_anomaly_score_threshold=4\"",
			"Include /crs/rules/*.conf\n", "SecUnicodeMapFile /u/unicode.mapping 20127"}, []string{"tx.paranoia_level", "SecStatusEngine"}},
		{"modsecurity crs3", ModSecurity, false, false, testWAF(true), []string{"setvar:tx.paranoia_level=2\"",
			"setvar:tx.executing_paranoia_level=2\""}, []string{"blocking_paranoia_level"}},
		{"portcullis waf", Portcullis, false, false, testWAF(false), []string{"waf:\n  profiles:\n    bench:\n      mode: block\n",
			"crs: { paranoia: 2, executing_paranoia: 2, promote: [], inbound_threshold: 5, outbound_threshold: 4 }",
			"request_body_limit: 1048576\n", "limits: { inspected_bytes: 65536, args: 512, depth: 32 }", "response: { inspect: false }",
			"    plugins:\n      - waf: bench\n"}, []string{"x-bench-config"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := params(t, tc.h3)
			if tc.variant {
				p.Variant, p.Admin = "b", "127.0.0.1:12019"
			}
			p.WAF = tc.waf
			b, err := Render(tc.tmpl, p)
			if err != nil {
				t.Fatalf("Render: got %v, want nil", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("got a configuration without %q, want it:\n%s", w, b)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(b), n) {
					t.Errorf("got %q in the configuration, want it absent", n)
				}
			}
		})
	}
}

// testWAF are a WAF scenario's settings at paranoia level 2, with made-up
// paths.
func testWAF(crs3 bool) *WAF {
	return &WAF{Paranoia: 2, InboundThreshold: 5, OutboundThreshold: 4, BodyLimit: 1 << 20, InspectedBytes: 64 << 10,
		Args: 512, Depth: 32, Module: "/m/ngx_http_modsecurity_module.so", RulesFile: "/d/modsecurity.conf",
		CRSSetup: "/crs/crs-setup.conf", CRSRules: "/crs/rules/*.conf", CRS3: crs3, UnicodeMap: "/u/unicode.mapping"}
}

func TestRenderUnknownTemplate(t *testing.T) {
	if _, err := Render("nope.tmpl", Params{}); err == nil {
		t.Errorf("got nil error, want one")
	}
}

// TestPeersAcceptTheirConfig checks each rendered configuration with the
// peer's own checker, where the peer is installed.
func TestPeersAcceptTheirConfig(t *testing.T) {
	tests := []struct {
		name, tmpl, file string
		argv             func(p Params, conf string) []string
	}{
		{"nginx", Nginx, "nginx.conf", func(p Params, conf string) []string {
			return []string{"nginx", "-t", "-p", p.Dir, "-c", conf, "-e", filepath.Join(p.Dir, "error.log")}
		}},
		{"haproxy", HAProxy, "haproxy.cfg", func(_ Params, conf string) []string { return []string{"haproxy", "-c", "-f", conf} }},
		{"caddy", Caddy, "Caddyfile", func(_ Params, conf string) []string {
			return []string{"caddy", "validate", "--config", conf, "--adapter", "caddyfile"}
		}},
		{"squid", Squid, "squid.conf", func(_ Params, conf string) []string { return []string{"squid", "-k", "parse", "-f", conf} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bin, err := exec.LookPath(tc.name)
			if err != nil {
				if bin, err = exec.LookPath("/usr/sbin/" + tc.name); err != nil {
					t.Skipf("%s is not installed", tc.name)
				}
			}
			// The plain configuration, and the reload scenario's variant.
			for _, variant := range []string{"", "b"} {
				p := params(t, false)
				p.Variant = variant
				if variant != "" {
					p.Admin = "127.0.0.1:12019"
				}
				writePEM(t, p)
				b, err := Render(tc.tmpl, p)
				if err != nil {
					t.Fatal(err)
				}
				conf := filepath.Join(p.Dir, tc.file)
				if err := os.WriteFile(conf, b, 0o644); err != nil {
					t.Fatal(err)
				}
				argv := tc.argv(p, conf)
				cmd := exec.Command(bin, argv[1:]...)
				cmd.Env = append(os.Environ(), "HOME="+p.Dir, "XDG_DATA_HOME="+p.Dir, "XDG_CONFIG_HOME="+p.Dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s rejects its configuration (variant %q): %v\n%s", tc.name, variant, err, out)
				}
			}
		})
	}
}

// writePEM writes a fresh self-signed certificate and key where p says,
// since the checkers load them.
func writePEM(t *testing.T, p Params) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	for path, data := range map[string]string{p.Cert: cert, p.Key: priv, p.CertKey: cert + priv} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestModSecurityAcceptsItsConfig checks nginx's configuration of the WAF
// scenarios and its ModSecurity configuration, with Debian's CRS 3, with
// nginx -t, which loads the module and every rule, where they are
// installed.
func TestModSecurityAcceptsItsConfig(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			t.Skip("nginx is not installed (package nginx)")
		}
	}
	const module = "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so"
	if _, err := os.Stat(module); err != nil {
		t.Skip("nginx's ModSecurity module is not installed (package libnginx-mod-http-modsecurity)")
	}
	if _, err := os.Stat("/etc/modsecurity/crs/crs-setup.conf"); err != nil {
		t.Skip("Debian's CRS 3 is not installed (package modsecurity-crs)")
	}
	p := params(t, false)
	writePEM(t, p)
	p.WAF = &WAF{Paranoia: 2, InboundThreshold: 5, OutboundThreshold: 4, BodyLimit: 1 << 20, InspectedBytes: 64 << 10,
		Args: 512, Depth: 32, Module: module, RulesFile: filepath.Join(p.Dir, "modsecurity.conf"),
		CRSSetup: "/etc/modsecurity/crs/crs-setup.conf", CRSRules: "/usr/share/modsecurity-crs/rules/*.conf", CRS3: true}
	for tmpl, file := range map[string]string{ModSecurity: p.WAF.RulesFile, Nginx: filepath.Join(p.Dir, "nginx.conf")} {
		b, err := Render(tmpl, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "-t", "-p", p.Dir, "-c", filepath.Join(p.Dir, "nginx.conf"), "-e", filepath.Join(p.Dir, "error.log")).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx rejects its WAF configuration: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(p.Dir, "error.log")); !strings.Contains(string(b)+string(out), "rules loaded") {
		t.Errorf("got no ModSecurity rules loaded, want the CRS's:\n%s%s", out, b)
	}
}
