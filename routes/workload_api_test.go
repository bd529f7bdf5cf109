package routes

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWorkloadAPIAddress takes a unix socket written as unix:///path or as
// /path, and refuses every other spelling with the reason.
func TestWorkloadAPIAddress(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"unix:///run/spire/sockets/agent.sock", "unix:///run/spire/sockets/agent.sock", ""},
		{"/run/spire/sockets/agent.sock", "unix:///run/spire/sockets/agent.sock", ""},
		{"unix:/run/spire/agent.sock", "unix:///run/spire/agent.sock", ""},
		{"unix:///run/spire/../spire/./agent.sock", "unix:///run/spire/agent.sock", ""},
		{"unix:///run/a%20b.sock", "unix:///run/a%20b.sock", ""},
		{"tcp://127.0.0.1:8081", "", "only a unix socket is taken"},
		{"http:///run/agent.sock", "", "want unix:///path or /path"},
		{"run/agent.sock", "", "want unix:///path or /path"},
		{"unix:run/agent.sock", "", "the path must be absolute"},
		{"unix://run/agent.sock", "", `names the host "run": a unix socket's path follows unix:// with a third slash, unix:///run/agent.sock`},
		{"unix://user@/run/agent.sock", "", "without user, query or fragment"},
		{"unix:///run/agent.sock?x=1", "", "without user, query or fragment"},
		{"unix:///run/agent.sock?", "", "without user, query or fragment"},
		{"unix:///run/agent.sock#frag", "", "without user, query or fragment"},
		{"unix://", "", "names no socket"},
		{"unix:///", "", "names no socket"},
		{"unix:///run/%zz", "", `invalid URL escape "%zz"`},
		{"unix:///run/\x00.sock", "", "invalid control character"},
		{"/" + strings.Repeat("a", 107), "", "the path is 108 bytes, longer than a unix socket's 107"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := workloadAPIAddress(tc.in)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("got error %v, want %s", err, tc.want)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("got %q, %v; want an error saying %q", got, err, tc.err)
			case got != tc.want:
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWorkloadAPIBlock loads an identity from the Workload API: the socket
// as written or from $SPIFFE_ENDPOINT_SOCKET, no identity built (the
// gateway builds it from what the API sends), and no file watched.
func TestWorkloadAPIBlock(t *testing.T) {
	file := func(block string) string {
		return `
identity: { trust_domain: example.org, trust_domain_aliases: [old.example.org], workload_api: ` + block + ` }
listeners: [ { name: mesh, address: "127.0.0.1:0", tls: { identity: true, client_auth: require } } ]
virtual_hosts: [{ name: shop, hosts: ["*"], routes: [{ upstream: shop }] }]
upstreams: [{ name: shop, endpoints: ["127.0.0.1:1"], tls: { mode: mutual } }]
`
	}
	for _, tc := range []struct{ name, block, env, want string }{
		{"socket", "{ socket: /run/spire/agent.sock }", "unix:///elsewhere.sock", "unix:///run/spire/agent.sock"},
		{"from the environment", "{}", "unix:///run/spire/sockets/agent.sock", "unix:///run/spire/sockets/agent.sock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envWorkloadAPISocket, tc.env)
			cfg, err := Parse(filepath.Join(t.TempDir(), "routes.yaml"), []byte(file(tc.block)), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cfg.Close()
			if got := cfg.File.Identity.WorkloadAPI.Socket; got != tc.want {
				t.Errorf("socket: got %q, want %q", got, tc.want)
			}
			if cfg.Identity != nil {
				t.Errorf("got an identity %v from the routes file, want none: the Workload API gives it", cfg.Identity)
			}
			if files := cfg.Files(); len(files) > 0 {
				t.Errorf("Files(): got %v, want none", files)
			}
			td, aliases := cfg.File.Identity.Domains()
			if td.Name() != "example.org" || len(aliases) != 1 || aliases[0].Name() != "old.example.org" {
				t.Errorf("Domains(): got %v %v, want example.org [old.example.org]", td, aliases)
			}
		})
	}
	t.Run("no socket", func(t *testing.T) {
		t.Setenv(envWorkloadAPISocket, "")
		_, err := Parse(filepath.Join(t.TempDir(), "routes.yaml"), []byte(file("{}")), nil)
		want := `routes.yaml:2:95: identity: workload_api.socket: is required (or $SPIFFE_ENDPOINT_SOCKET): the Workload API's unix socket, such as unix:///run/spire/sockets/agent.sock`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %s", err, want)
		}
	})
	t.Run("a bad socket from the environment", func(t *testing.T) {
		t.Setenv(envWorkloadAPISocket, "tcp://127.0.0.1:8081")
		_, err := Parse(filepath.Join(t.TempDir(), "routes.yaml"), []byte(file("{}")), nil)
		want := `routes.yaml:2:11: identity: workload_api.socket from $SPIFFE_ENDPOINT_SOCKET: "tcp://127.0.0.1:8081": only a unix socket is taken`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %s", err, want)
		}
	})
}
