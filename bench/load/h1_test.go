package load

import (
	"bufio"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		expect   int
		wantN    int64
		wantKeep bool
		wantErr  string // "" for none, else classify's kind
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 5, true, ""},
		{"lf only line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", 0, 2, true, ""},
		{"header names any case", "HTTP/1.1 200 OK\r\ncontent-LENGTH: 3\r\n\r\nabc", 0, 3, true, ""},
		{"chunked with extension and trailer",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n", 0, 5, true, ""},
		{"connection close", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx", 0, 1, false, ""},
		{"http/1.0 body to the end", "HTTP/1.0 200 OK\r\n\r\nuntil eof", 0, 9, false, ""},
		{"204 has no body", "HTTP/1.1 204 No Content\r\n\r\n", 0, 0, true, ""},
		{"interim 100 then the answer", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz", 0, 1, true, ""},
		{"502 is an error", "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad", 0, 3, true, "status_502"},
		{"403 expected is an answer", "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno", 403, 2, true, ""},
		{"200 when 403 is expected is an error", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 403, 2, true, "status_200"},
		{"404 when 403 is expected is an error", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 403, 0, true, "status_404"},
		{"empty input", "", 0, 0, false, "eof"},
		{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0, 5, false, "eof"},
		{"truncated head", "HTTP/1.1 200 OK\r\nContent-Le", 0, 0, false, "eof"},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", 0, 0, false, "protocol"},
		{"status not a number", "HTTP/1.1 2x0 OK\r\n\r\n", 0, 0, false, "protocol"},
		{"negative content-length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, false, "protocol"},
		{"content-length not a number", "HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", 0, 0, false, "protocol"},
		{"header without colon", "HTTP/1.1 200 OK\r\nbogus\r\n\r\n", 0, 0, false, "protocol"},
		{"chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, 0, false, "protocol"},
		{"chunk size huge", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", 0, 0, false, "protocol"},
		{"too many header lines", "HTTP/1.1 200 OK\r\n" + strings.Repeat("A: b\r\n", maxHeaderLines+1) + "\r\n", 0, 0, false, "protocol"},
		{"line longer than the buffer", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 70000) + "\r\n\r\n", 0, 0, false, "protocol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, keep, err := readResponse(bufio.NewReaderSize(strings.NewReader(tc.in), 4096), tc.expect)
			if n != tc.wantN {
				t.Errorf("body bytes: got %d, want %d", n, tc.wantN)
			}
			if err == nil && keep != tc.wantKeep {
				t.Errorf("keep-alive: got %v, want %v", keep, tc.wantKeep)
			}
			got := ""
			if err != nil {
				got = classify(err)
			}
			if got != tc.wantErr {
				t.Errorf("error kind: got %q (%v), want %q", got, err, tc.wantErr)
			}
		})
	}
}

func TestH1Head(t *testing.T) {
	tests := []struct {
		name               string
		method, path, host string
		header             []string
		body               int
		closeConn          bool
		want               string
	}{
		{"get", "GET", "/1k", "127.0.0.1:80", nil, 0, false,
			"GET /1k HTTP/1.1\r\nHost: 127.0.0.1:80\r\nUser-Agent: portcullis-load\r\n\r\n"},
		{"post closing", "POST", "/echo", "h", nil, 3, true,
			"POST /echo HTTP/1.1\r\nHost: h\r\nUser-Agent: portcullis-load\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"},
		{"extra header lines replace the own user agent and content type", "POST", "/0", "h",
			[]string{"user-agent:  Mozilla/5.0 ", "Accept: */*", "Content-Type: application/json"}, 2, false,
			"POST /0 HTTP/1.1\r\nHost: h\r\nuser-agent: Mozilla/5.0\r\nAccept: */*\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(h1Head(tc.method, tc.path, tc.host, tc.header, tc.body, tc.closeConn)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\nrest"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		n, _, err := readResponse(bufio.NewReaderSize(strings.NewReader(string(in)), 4096), 0)
		if n < 0 || n > int64(len(in)) {
			t.Fatalf("body bytes: got %d, want 0 ≤ n ≤ %d", n, len(in))
		}
		if err != nil && classify(err) == "" {
			t.Fatalf("error %v: got no kind, want one", err)
		}
	})
}
