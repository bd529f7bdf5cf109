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
		if !s.ignore {
			s.variant = cfg.Variant
		}
		s.failing = s.failFirst
	default:
		if s.failing > 0 {
			s.failing--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set(reloadHeader, s.variant)
	}
}

func TestReloaderOnce(t *testing.T) {
	tests := []struct {
		name        string
		srv         *adminServer
		load        string // the configuration posted
		wantErr     string
		wantProbeKO uint64
	}{
		{"applied", &adminServer{variant: "a"}, `{"variant":"b"}`, "", 0},
		{"applied after two failed probes", &adminServer{variant: "a", failFirst: 2}, `{"variant":"b"}`, "", 2},
		{"never applied", &adminServer{variant: "a", ignore: true}, `{"variant":"b"}`, `variant "b" not in force`, 0},
		{"load refused", &adminServer{variant: "a"}, `not json`, "POST /load: status 400", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: tc.srv}
			go srv.Serve(ln)
			defer srv.Close()
			addr := ln.Addr().String()
			dir := t.TempDir()
			r := &reloader{c: &contender{name: "fake", reloadAPI: true, tmpl: peers.Caddy}, next: 1, url: "http://" + addr + "/1k",
				path: filepath.Join(dir, "Caddyfile"),
				p: peers.Params{Dir: dir, Listen: "127.0.0.1:1", ListenTLS: "127.0.0.1:2", Upstream: "127.0.0.1:3",
					AccessLog: filepath.Join(dir, "access.log"), Admin: addr},
				client:    &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
				caddyJSON: map[string][]byte{"a": []byte(`{"variant":"a"}`), "b": []byte(tc.load)}}
			st := reloadStats{probeErrs: map[string]uint64{}}
			_, err = r.once(context.Background(), time.Now().Add(300*time.Millisecond), &st)
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
