package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/bench/peers"
)

// adminServer stands for Caddy on a real loopback socket: it answers GET
// /1k with the variant in force and takes a new one on POST /load, as
// Caddy's admin API does. ignore makes it drop loads; failFirst makes the
// first probes after a load answer 503.
type adminServer struct {
	mu        sync.Mutex
	variant   string
	ignore    bool
	failFirst int
	failing   int
	// staleFirst makes the first probes after a load answer with the
	// old variant, as a contender that takes a while to apply one; loaded
	// is told of each load.
	staleFirst int
	stale      int
	old        string
	loaded     chan struct{}
}

func (s *adminServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/load":
		var cfg struct{ Variant string }
		if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.old = s.variant
		if !s.ignore {
			s.variant = cfg.Variant
		}
		s.failing, s.stale = s.failFirst, s.staleFirst
		if s.loaded != nil {
			s.loaded <- struct{}{}
		}
	default:
		if s.failing > 0 {
			s.failing--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if s.stale > 0 {
			s.stale--
			w.Header().Set(reloadHeader, s.old)
			return
		}
		w.Header().Set(reloadHeader, s.variant)
	}
}

// fakeReloader is a reloader of srv, a Caddy-like admin API on loopback.
func fakeReloader(t *testing.T, srv *adminServer, load string) *reloader {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()
	dir := t.TempDir()
	return &reloader{c: &contender{name: "fake", reloadAPI: true, tmpl: peers.Caddy}, next: 1, url: "http://" + addr + "/1k",
		path: filepath.Join(dir, "Caddyfile"),
		p: peers.Params{Dir: dir, Listen: "127.0.0.1:1", ListenTLS: "127.0.0.1:2", Upstream: "127.0.0.1:3",
			AccessLog: filepath.Join(dir, "access.log"), Admin: addr},
		client:    &http.Client{Timeout: probeTimeout, Transport: &http.Transport{DisableKeepAlives: true}},
		caddyJSON: map[string][]byte{"a": []byte(`{"variant":"a"}`), "b": []byte(load)}}
}

// TestReloadLoopStop checks that stopping the loop lets the reload under
// way be applied and counted, however long it takes, and that a loop
// stopped before any reload was due counts none.
func TestReloadLoopStop(t *testing.T) {
	t.Run("a reload under way is counted", func(t *testing.T) {
		srv := &adminServer{variant: "a", staleFirst: 20, loaded: make(chan struct{}, 10)}
		r := fakeReloader(t, srv, `{"variant":"b"}`)
		stop := r.start(context.Background(), 50*time.Millisecond, 30*time.Second)
		<-srv.loaded // the first reload is under way: 20 probes still see "a"
		st := stop()
		if st.reloads != 1 || st.applied != 1 || st.firstErr != "" {
			t.Errorf("got %d applied of %d (%s), want the one under way applied", st.applied, st.reloads, st.firstErr)
		}
	})
	t.Run("none due", func(t *testing.T) {
		r := fakeReloader(t, &adminServer{variant: "a"}, `{"variant":"b"}`)
		stop := r.start(context.Background(), time.Hour, 30*time.Second)
		if st := stop(); st.reloads != 0 {
			t.Errorf("got %d reloads, want none", st.reloads)
		}
	})
}

func TestReloaderOnce(t *testing.T) {
	tests := []struct {
		name        string
		srv         *adminServer
		load        string // the configuration posted
		wantErr     string
		wantProbeKO uint64
		// within is how long the reload may take: generous where it
		// applies, so a loaded machine does not fail the case, short
		// where it never does.
		within time.Duration
	}{
		{"applied", &adminServer{variant: "a"}, `{"variant":"b"}`, "", 0, 30 * time.Second},
		{"applied after two failed probes", &adminServer{variant: "a", failFirst: 2}, `{"variant":"b"}`, "", 2, 30 * time.Second},
		{"never applied", &adminServer{variant: "a", ignore: true}, `{"variant":"b"}`, `variant "b" not in force`, 0, 300 * time.Millisecond},
		{"load refused", &adminServer{variant: "a"}, `not json`, "POST /load: status 400", 0, 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fakeReloader(t, tc.srv, tc.load)
			st := reloadStats{probeErrs: map[string]uint64{}}
			_, err := r.once(context.Background(), time.Now().Add(tc.within), &st)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("once: got %v, want %q", err, tc.wantErr)
			}
			if got := st.probeErrs["probe_status_503"]; got != tc.wantProbeKO {
				t.Errorf("failed probes: got %d, want %d", got, tc.wantProbeKO)
			}
			if r.next != 0 {
				t.Errorf("next variant: got %d, want 0", r.next)
			}
			if b, err := os.ReadFile(r.path); err != nil || !strings.Contains(string(b), "X-Bench-Config b") {
				t.Errorf("configuration file: got err %v, want it rewritten with variant b", err)
			}
		})
	}
}

func TestProbeKind(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"status", fmt.Errorf("get: %w", statusError(502)), "status_502"},
		{"refused", &url.Error{Op: "Get", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, "refused"},
		{"reset", &url.Error{Op: "Get", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, "reset"},
		{"eof", &url.Error{Op: "Get", Err: io.EOF}, "eof"},
		{"timeout", &url.Error{Op: "Get", Err: context.DeadlineExceeded}, "timeout"},
		{"other", errors.New("something else"), "other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := probeKind(tc.err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
