package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/routes"
)

// reloadYAML is a routes file whose generation shows in a response header;
// odd generations also change the listener's limits, which makes the
// listener start new servers on its socket.
func reloadYAML(gen int, backend string) string {
	idle := "60s"
	if gen%2 == 1 {
		idle = "61s"
	}
	return fmt.Sprintf(`
admin: { address: "off" }
listeners:
  - { name: web, address: "127.0.0.1:%%PORT%%", limits: { idle_timeout: %s } }
virtual_hosts:
  - name: all
    hosts: ["*"]
    plugins: [ { headers: { response: { set: { x-gen: "%d" } } } } ]
    routes: [ { name: main, match: { path_prefix: / }, upstream: app } ]
upstreams: [ { name: app, endpoints: ["%s"] } ]
`, idle, gen, backend)
}

// kubeDir lays files out as the kubelet mounts a ConfigMap or a Secret:
// routes.yaml -> ..data/routes.yaml, ..data -> ..<version>, and updates them
// by swapping the ..data symlink.
type kubeDir struct {
	dir string
	n   int
}

func (k *kubeDir) write(t *testing.T, content string) {
	t.Helper()
	k.writeFiles(t, map[string][]byte{"routes.yaml": []byte(content)})
}

// writeFiles puts a new version of the files in place at once.
func (k *kubeDir) writeFiles(t *testing.T, files map[string][]byte) {
	t.Helper()
	k.n++
	ver := fmt.Sprintf("..2026_11_25_%04d", k.n)
	if err := os.Mkdir(filepath.Join(k.dir, ver), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(k.dir, ver, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(k.dir, "..data_tmp")
	if err := os.Symlink(ver, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(k.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for name := range files {
		link := filepath.Join(k.dir, name)
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink("..data/"+name, link); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestReloadUnderLoad rewrites the routes file 100 times, valid and invalid
// by turns, through the kubelet's symlink swap, while clients send requests
// without pause; no request may fail, and every valid file must take effect.
func TestReloadUnderLoad(t *testing.T) {
	be := newBackend(t, nil)
	reg, _ := plugins.NewRegistry(headers.Factory())
	kd := &kubeDir{dir: t.TempDir()}
	// The first load fixes the port, which every later file keeps.
	first := strings.ReplaceAll(reloadYAML(0, be.addr()), "%PORT%", "0")
	kd.write(t, first)
	path := filepath.Join(kd.dir, "routes.yaml")
	cfg, err := routes.Load(path, reg)
	if err != nil {
		t.Fatal(err)
	}
	tg := startGatewayCfg(t, cfg)
	port := port(tg.Addr("web"))
	url := "http://127.0.0.1:" + port + "/load"

	loaded := make(chan error, 1)
	w, err := routes.NewWatcher(path, cfg, reg, func(next *routes.Config, err error) {
		if err == nil {
			err = tg.Reload(next)
		} else {
			tg.ReloadFailed(path, err)
		}
		loaded <- err
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Debounce = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)

	var failures, requests atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{}}
			for n := 0; n < 100000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(url)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				requests.Add(1)
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
					if err == nil {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
					firstFailure.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	valid := 0
	for i := 1; i <= 100; i++ {
		good := i%2 == 0
		if good {
			valid++
			kd.write(t, strings.ReplaceAll(reloadYAML(valid, be.addr()), "%PORT%", port))
		} else {
			kd.write(t, "listeners: [ { name: web, adress: oops } ]\n")
		}
		select {
		case err := <-loaded:
			if good && err != nil {
				t.Fatalf("reload %d: %v", i, err)
			}
			if !good && err == nil {
				t.Fatalf("reload %d: invalid file accepted", i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("reload %d: the watcher did not react", i)
		}
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during reloads; first: %v", n, requests.Load(), firstFailure.Load())
	}
	resp, _ := get(t, http.DefaultClient, url)
	if got, want := resp.Header.Get("X-Gen"), fmt.Sprint(valid); got != want {
		t.Errorf("after the reloads: x-gen %q, want %q (the last valid file)", got, want)
	}
	if st := tg.Status(); !st.OK || st.Generation != valid {
		t.Errorf("status: got %+v, want the last reload good, generation %d", st, valid)
	}
	t.Logf("%d requests during 100 reloads", requests.Load())
}

// startGatewayCfg starts a gateway on an already loaded configuration.
func startGatewayCfg(t *testing.T, cfg *routes.Config) *testGateway {
	t.Helper()
	return startGatewayWith(t, cfg)
}
