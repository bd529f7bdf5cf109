package load

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    uint64
		want string
	}{
		{"none", "/1k?q=a", 7, "/1k?q=a"},
		{"first", "q={seq}", 0, "q=1000000000"},
		{"several, same number", `{"a":{seq},"b":"x{seq}y"}`, 42, `{"a":1000000042,"b":"x1000000042y"}`},
		{"adjacent", "{seq}{seq}", 1, "10000000011000000001"},
		{"wraps before an eleventh digit", "{seq}", 9_000_000_000, "1000000000"},
		{"last before the wrap", "{seq}", 8_999_999_999, "9999999999"},
		{"a broken placeholder stays", "{seq {se}q}", 3, "{seq {se}q}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Expand(tc.in, tc.n); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// recorder is a server that keeps every request's query, body and
// header, and answers with status.
type recorder struct {
	mu     sync.Mutex
	seen   []string
	header http.Header
}

func (rc *recorder) start(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.seen = append(rc.seen, r.URL.RawQuery+" "+string(b))
		rc.header = r.Header.Clone()
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRunVaried sends a varied POST on several connections and checks
// that the server saw no request twice, each with the header lines given
// and a body of the same length.
func TestRunVaried(t *testing.T) {
	var rc recorder
	url := rc.start(t, http.StatusOK)
	body := `{"order":{seq},"sku":"SKU-{seq}-1"}`
	r, err := Run(context.Background(), Config{URL: url + "/0?id={seq}", Proto: "h1", Conns: 4, Streams: 1,
		Duration: 200 * time.Millisecond, Timeout: 5 * time.Second, Method: "POST", Body: []byte(body),
		Header: []string{"Content-Type: application/json", "X-Trace: t{seq}"}})
	if err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if r.Requests == 0 || len(r.Errors) > 0 {
		t.Fatalf("got %d requests and errors %v, want some and none", r.Requests, r.Errors)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	distinct := map[string]bool{}
	for _, s := range rc.seen {
		if distinct[s] {
			t.Fatalf("request %q sent twice, want every request distinct", s)
		}
		distinct[s] = true
		q, b, _ := strings.Cut(s, " ")
		if len(b) != len(Expand(body, 0)) || !strings.HasPrefix(q, "id=") || strings.Contains(s, Seq) {
			t.Errorf("got request %q, want the query and the body with their numbers", s)
		}
		if want := "id=" + strings.TrimPrefix(strings.Split(b, ",")[0], `{"order":`); q != want {
			t.Errorf("got query %q and body %q, want one number in both", q, b)
		}
	}
	if got := rc.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", got)
	}
	if got := rc.header.Get("X-Trace"); len(got) != 11 || got[0] != 't' {
		t.Errorf("X-Trace: got %q, want t and ten digits", got)
	}
}

// TestRunExpect checks that an expected status counts as an answer and
// that any other, a success included, counts as an error.
func TestRunExpect(t *testing.T) {
	tests := []struct {
		name           string
		status, expect int
		wantErr        string
	}{
		{"403 expected and answered", http.StatusForbidden, 403, ""},
		{"403 expected, 200 answered", http.StatusOK, 403, "status_200"},
		{"nothing expected, 403 answered", http.StatusForbidden, 0, "status_403"},
	}
	for _, tc := range tests {
		for _, proto := range []string{"h1", "h2c"} {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				var rc recorder
				srv := rc.start(t, tc.status)
				if proto == "h2c" {
					s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tc.status) }))
					s.Config.Protocols = new(http.Protocols)
					s.Config.Protocols.SetUnencryptedHTTP2(true)
					s.Start()
					t.Cleanup(s.Close)
					srv = s.URL
				}
				r, err := Run(context.Background(), Config{URL: srv + "/", Proto: proto, Conns: 2, Streams: 1,
					Duration: 100 * time.Millisecond, Timeout: 5 * time.Second, Method: "GET", Expect: tc.expect})
				if err != nil {
					t.Fatalf("Run: got %v, want nil", err)
				}
				if tc.wantErr == "" && (r.Requests == 0 || len(r.Errors) > 0) {
					t.Errorf("got %d requests and errors %v, want some and none", r.Requests, r.Errors)
				}
				if tc.wantErr != "" && (r.Requests != 0 || r.Errors[tc.wantErr] == 0) {
					t.Errorf("got %d requests and errors %v, want none and some %s", r.Requests, r.Errors, tc.wantErr)
				}
			})
		}
	}
}
