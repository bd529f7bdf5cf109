package routes

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.yaml"), "cannot read: no such file or directory"},
		{"directory", dir, "cannot read: is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path, nil)
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("got %v, want one Error", err)
			}
			if got := *es[0]; got != (Error{File: tt.path, Msg: tt.want}) {
				t.Errorf("got %+v, want file %s, line 0, %q", got, tt.path, tt.want)
			}
		})
	}
}

// TestParseResolvesAgainstTheFile checks that a relative path in the file
// is resolved against the file's directory, not the working directory,
// even when the file's own name is relative.
func TestParseResolvesAgainstTheFile(t *testing.T) {
	dir := fixtureDir(t)
	conf := filepath.Join(dir, "conf")
	p := testPairs(t)
	writeFile(t, filepath.Join(conf, "tls/edge.crt"), p[0].cert)
	writeFile(t, filepath.Join(conf, "tls/edge.key"), p[0].key)
	t.Chdir(dir)
	src := `
listeners:
  - name: public
    address: "127.0.0.1:0"
    tls: { certificates: [{ cert: tls/edge.crt, key: tls/edge.key }] }
virtual_hosts: [{ name: all, hosts: ["*"], routes: [{ upstream: echo }] }]
upstreams: [{ name: echo, builtin: echo }]
`
	cfg, err := Parse("conf/routes.yaml", []byte(src), nil)
	if err != nil {
		t.Fatalf("got error:\n%v", err)
	}
	defer cfg.Close()
	// The fixture dir may be reached through a symbolic link (macOS's
	// /tmp); compare the files, not the spellings.
	got := cfg.File.Listeners[0].TLS.Certificates[0].Cert
	want := filepath.Join(conf, "tls/edge.crt")
	if !filepath.IsAbs(got) || !sameFile(t, got, want) {
		t.Errorf("got cert %q, want %q", got, want)
	}
	if cfg.Source != "conf/routes.yaml" {
		t.Errorf("got source %q, want conf/routes.yaml", cfg.Source)
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

func TestErrorsAreSortedAndReportedOnce(t *testing.T) {
	reg, _ := testRegistry(t)
	// The host's headers plugin fails for each of the three routes that
	// build it; it is reported once, in file order with the rest.
	src := `upstreams: [{ name: echo, builtin: echo, balancer: random }]
virtual_hosts:
  - name: shop
    hosts: ["*"]
    plugins: [{ headers: { request: { set: { "": x } } } }]
    routes: [{ upstream: echo }, { upstream: echo }, { upstream: nowhere }]
listeners: [{ name: public, address: ":http" }]
`
	_, err := Parse("r.yaml", []byte(src), reg)
	want := `r.yaml:1:52: upstream "echo": balancer: unknown value "random" (want round_robin)
r.yaml:5:44: virtual host "shop": plugins[0] headers: request.set: a header name is empty
r.yaml:6:66: route "shop-2": upstream "nowhere" is not defined
r.yaml:7:38: listener "public": address ":http": invalid port "http"`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		f    File
		want string
	}{
		{"plural", File{
			Listeners: make([]Listener, 2),
			VirtualHosts: []VirtualHost{
				{Plugins: make([]PluginConfig, 1), Routes: []Route{{Plugins: make([]PluginConfig, 2)}, {}}},
				{Routes: make([]Route, 3)},
			},
			Upstreams: make([]UpstreamSpec, 0),
		}, "r.yaml: ok: 2 listeners, 2 virtual hosts, 5 routes, 0 upstreams, 3 plugins"},
		{"singular", File{
			Listeners:    make([]Listener, 1),
			VirtualHosts: []VirtualHost{{Routes: []Route{{Plugins: make([]PluginConfig, 1)}}}},
			Upstreams:    make([]UpstreamSpec, 1),
		}, "r.yaml: ok: 1 listener, 1 virtual host, 1 route, 1 upstream, 1 plugin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Source: "r.yaml", File: &tt.f}
			if got := c.Summary(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
