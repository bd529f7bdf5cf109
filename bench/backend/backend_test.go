package backend

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSize(t *testing.T) {
	tests := []struct {
		path    string
		want    int
		wantErr bool
	}{
		{"/0", 0, false},
		{"/10", 10, false},
		{"/1k", 1024, false},
		{"/64k", 64 << 10, false},
		{"/1m", 1 << 20, false},
		{"/64m", 64 << 20, false},
		{"/65m", 0, true},
		{"/99999999999999999999k", 0, true},
		{"/-1", 0, true},
		{"/1g", 0, true},
		{"/", 0, true},
		{"/k", 0, true},
		{"/1k/extra", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, err := Size(tc.path)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("Size(%q): got %d, %v; want %d, error %v", tc.path, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	tests := []struct {
		name, method, path string
		body               string
		wantStatus         int
		wantLen            int
		wantBody           string
	}{
		{"get 1k", "GET", "/1k", "", 200, 1024, ""},
		{"get 1m", "GET", "/1m", "", 200, 1 << 20, ""},
		{"get any size", "GET", "/3", "", 200, 3, "abc"},
		{"post echo", "POST", "/echo", "hello", 200, 5, "hello"},
		{"post to a size reads and answers the size", "POST", "/0", strings.Repeat("x", 100_000), 200, 0, ""},
		{"unknown path", "GET", "/nope", "", 404, -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, bytes.NewBufferString(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("request: got %v, want nil", err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("body: got %v, want nil", err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantLen >= 0 && len(body) != tc.wantLen {
				t.Errorf("body length: got %d, want %d", len(body), tc.wantLen)
			}
			if tc.wantBody != "" && string(body) != tc.wantBody {
				t.Errorf("body: got %q, want %q", body, tc.wantBody)
			}
		})
	}
}
