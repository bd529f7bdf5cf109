package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/bench/load"
)

// TestWAFRequests checks the WAF loads are what the scenarios say: 4 KiB
// of valid JSON with about 240 values, each request different from the
// next, and an attack that reads as SQL once decoded.
func TestWAFRequests(t *testing.T) {
	body := load.Expand(wafRequests["json"].body, 7)
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("the JSON body does not parse: %v", err)
	}
	if n := len(body); n < 3900 || n > 4300 {
		t.Errorf("JSON body: got %d bytes, want about 4 KiB", n)
	}
	if n := leaves(v); n < 230 || n > 250 {
		t.Errorf("JSON body: got %d values, want about 240", n)
	}
	for kind, r := range wafRequests {
		a, b := load.Expand(r.path, 1)+load.Expand(r.body, 1), load.Expand(r.path, 2)+load.Expand(r.body, 2)
		if a == b {
			t.Errorf("%s: requests 1 and 2 are the same, want each request different", kind)
		}
		u, err := url.Parse(load.Expand(r.path, 1))
		if err != nil {
			t.Errorf("%s: path %q: %v", kind, r.path, err)
			continue
		}
		if strings.Contains(u.Path, load.Seq) {
			t.Errorf("%s: %s in the path %q, want it in the query only", kind, load.Seq, u.Path)
		}
	}
	u, _ := url.Parse(load.Expand(wafRequests["attack"].path, 3))
	if q := u.Query().Get("q"); q != "1000000003' UNION SELECT password FROM users WHERE id=1000000003--" {
		t.Errorf("attack: got q=%q, want the SQL injection", q)
	}
}

// leaves counts the values of a decoded JSON document.
func leaves(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := 0
		for _, e := range x {
			n += leaves(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += leaves(e)
		}
		return n
	}
	return 1
}

// TestCheckWAF runs the checks against servers that play WAFs, well and
// badly: only one that blocks both attacks and passes both benign
// requests is measured.
func TestCheckWAF(t *testing.T) {
	tests := []struct {
		name    string
		blocks  func(query, body string) bool
		wantErr string // "" for none, else a part of the error
	}{
		{"a WAF", func(q, b string) bool { return strings.Contains(q, "UNION") || strings.Contains(b, "<script>") }, ""},
		{"no WAF at all", func(q, b string) bool { return false }, `"SQL injection in the query"`},
		{"a WAF that does not read bodies", func(q, b string) bool { return strings.Contains(q, "UNION") }, `"XSS in a JSON body"`},
		{"a WAF that blocks everything", func(q, b string) bool { return true }, `"benign GET"`},
		{"a WAF that blocks JSON", func(q, b string) bool { return b != "" }, `"benign JSON POST"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if r.Header.Get("Accept") == "" || r.Header.Get("Cookie") == "" {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				if tc.blocks(r.URL.Query().Get("q"), string(b)) {
					w.WriteHeader(http.StatusForbidden)
				}
			}))
			defer srv.Close()
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			err := checkWAF(context.Background(), addrs{plain: "127.0.0.1:" + port})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error naming %s", err, tc.wantErr)
			}
		})
	}
}

// TestWAFLoadArgs checks the load generator is given the WAF scenario's
// header lines, body file and expected status.
func TestWAFLoadArgs(t *testing.T) {
	h := &harness{bins: binaries{load: "/bin/load"}}
	for _, sc := range wafScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			if sc.bodyText != "" {
				sc.bodyFile = "/w/body"
			}
			argv := strings.Join(h.loadArgs(sc, addrs{plain: "127.0.0.1:1"}, time.Second, 0), "\x00")
			want := []string{"-url\x00http://127.0.0.1:1" + sc.path + "\x00", "-c\x004\x00", "-H\x00User-Agent: Mozilla/5.0",
				"-H\x00Cookie: session={seq}; theme=dark\x00", fmt.Sprintf("-expect\x00%d", sc.expect)}
			if sc.waf.kind == "json" {
				want = append(want, "-method\x00POST\x00", "-H\x00Content-Type: application/json\x00", "-body-file\x00/w/body\x00")
			}
			for _, w := range want {
				if !strings.Contains(argv, w) {
					t.Errorf("got argv %q, want %q in it", strings.ReplaceAll(argv, "\x00", " "), strings.ReplaceAll(w, "\x00", " "))
				}
			}
			if sc.waf.kind != "json" && strings.Contains(argv, "-body-file") {
				t.Errorf("got a body file for %s, want none", sc.name)
			}
		})
	}
}
