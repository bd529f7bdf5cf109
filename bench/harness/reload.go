package harness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/portcullis-gw/portcullis/bench/peers"
)

// variants are the two configurations the reload scenario alternates
// between: the same in everything but the X-Bench-Config response header,
// which tells a probe which one answered.
var variants = [2]string{"a", "b"}

// probeTimeout bounds one probe, as the load generator's -timeout bounds
// a request: a probe that a loaded machine answers late is slow, not
// failed.
const probeTimeout = 10 * time.Second

// reloadHeader is the response header that carries the variant.
const reloadHeader = "X-Bench-Config"

// reloader has one running contender take a new configuration, the way
// its operators do: the gateway, nginx and HAProxy get their file
// rewritten and a signal to their leader (the master process); Caddy gets
// the configuration posted to its admin API, which is what `caddy reload`
// does.
type reloader struct {
	c    *contender
	proc *process
	// path is the configuration file, p the values it was rendered with.
	path string
	p    peers.Params
	// caddyJSON is Caddy's configuration per variant, adapted from the
	// Caddyfile once so no reload runs the adapter.
	caddyJSON map[string][]byte
	client    *http.Client
	url       string
	// next is the index in variants of the next reload's variant.
	next int
}

// newReloader prepares reloads of a contender launched with variants[0].
func (h *harness) newReloader(c *contender, proc *process, dir string, a addrs) (*reloader, error) {
	r := &reloader{c: c, proc: proc, path: filepath.Join(dir, c.conf), p: h.params(dir, a), next: 1,
		url:    "http://" + a.plain + "/1k",
		client: &http.Client{Timeout: probeTimeout, Transport: &http.Transport{DisableKeepAlives: true}}}
	if c.reloadSig != 0 {
		return r, nil
	}
	r.caddyJSON = map[string][]byte{}
	for _, v := range variants {
		r.p.Variant = v
		b, err := peers.Render(c.tmpl, r.p)
		if err != nil {
			return nil, err
		}
		src := filepath.Join(dir, "Caddyfile-"+v)
		if err := os.WriteFile(src, b, 0o644); err != nil {
			return nil, fmt.Errorf("reload: %w", err)
		}
		out, err := exec.Command(c.bin, "adapt", "--config", src, "--adapter", "caddyfile").Output()
		if err != nil {
			return nil, fmt.Errorf("reload: caddy adapt: %w", err)
		}
		r.caddyJSON[v] = out
	}
	return r, nil
}

// trigger puts variant v in force: it rewrites the file, then signals the
// leader or, for Caddy, posts the file's configuration to the admin API.
// For the gateway, which also watches its file, the signal makes the
// reload happen now rather than after the watcher's debounce; the watcher
// then finds the content it already loaded and does nothing, so each
// trigger is one reload.
func (r *reloader) trigger(ctx context.Context, v string) error {
	if err := r.rewrite(v); err != nil {
		return err
	}
	if r.caddyJSON != nil {
		return r.post(ctx, v)
	}
	if err := r.proc.cmd.Process.Signal(r.c.reloadSig); err != nil {
		return fmt.Errorf("signalling %s: %w", r.c.name, err)
	}
	return nil
}

// rewrite renders variant v into the configuration file, written beside
// it and renamed over it, as editors and the kubelet do, so nobody reads a
// half-written file.
func (r *reloader) rewrite(v string) error {
	r.p.Variant = v
	b, err := peers.Render(r.c.tmpl, r.p)
	if err != nil {
		return err
	}
	tmp := r.path + ".next"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("rewriting the configuration: %w", err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		return fmt.Errorf("rewriting the configuration: %w", err)
	}
	return nil
}

// post loads variant v into Caddy through its admin API, as `caddy
// reload` does, with the configuration adapted when Caddy was launched.
func (r *reloader) post(ctx context.Context, v string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.p.Admin+"/load", bytes.NewReader(r.caddyJSON[v]))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	// Loading waits for the new servers to start: longer than a probe.
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("POST /load: %w", err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /load: status %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}
