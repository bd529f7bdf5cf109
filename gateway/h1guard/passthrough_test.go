package h1guard

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHijackPassesThrough upgrades a connection (and opens a CONNECT
// tunnel) and sends bytes that are anything but HTTP/1 through it: the
// handler's hijack must switch the guard off.
func TestHijackPassesThrough(t *testing.T) {
	tests := []struct {
		name, req string
		status    int
	}{
		{"upgrade", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n", 101},
		{"connect", "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", 200},
	}
	raw := "\x00\nnot HTTP\r at all\n\n \t\x16\x03\x01"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, Options{}, nil)
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tc.req)
			br := bufio.NewReader(c)
			res, err := http.ReadResponse(br, &http.Request{Method: strings.Fields(tc.req)[0]})
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("got status %d, want %d", res.StatusCode, tc.status)
			}
			io.WriteString(c, raw)
			got := make([]byte, len(raw))
			if _, err := io.ReadFull(br, got); err != nil {
				t.Fatalf("read echo: %v", err)
			}
			if string(got) != raw {
				t.Errorf("got echo %q, want %q", got, raw)
			}
			if v := ts.violations(); len(v) != 0 {
				t.Errorf("got violations %v, want none", v)
			}
		})
	}
}

// TestH2CPriorKnowledge speaks HTTP/2 without TLS to a guarded server: the
// preface must switch the guard off.
func TestH2CPriorKnowledge(t *testing.T) {
	ts := startServer(t, Options{}, func(s *http.Server) {
		s.Protocols = new(http.Protocols)
		s.Protocols.SetHTTP1(true)
		s.Protocols.SetUnencryptedHTTP2(true)
	})
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, body := range []string{"", "hello over h2c"} {
		res, err := client.Post("http://"+ts.addr+"/", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.Proto != "HTTP/2.0" || res.StatusCode != 200 {
			t.Errorf("got %s %d, want HTTP/2.0 200", res.Proto, res.StatusCode)
		}
		if want := `body="` + body + `" trailer=""`; string(b) != want {
			t.Errorf("got body %q, want %q", b, want)
		}
	}
	if v := ts.violations(); len(v) != 0 {
		t.Errorf("got violations %v, want none", v)
	}
}

// TestPassthroughOnlyAfterHijack hands the raw connection out only once the
// guard has stepped aside, and never after a violation.
func TestPassthroughOnlyAfterHijack(t *testing.T) {
	pair := func(t *testing.T) (net.Conn, net.Conn) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		peer, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { peer.Close() })
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, peer
	}
	type passer interface{ Passthrough() net.Conn }

	raw, peer := pair(t)
	g := Conn(raw, Options{}).(passer)
	if g.Passthrough() != nil {
		t.Error("a connection still checked was handed out raw")
	}
	io.WriteString(peer, "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n")
	g.(net.Conn).Read(make([]byte, 256))
	if g.Passthrough() != nil {
		t.Error("a connection still checked was handed out raw")
	}
	g.(net.Conn).SetDeadline(time.Time{})
	if g.Passthrough() != raw {
		t.Error("a hijacked connection was not handed out raw")
	}

	raw, peer = pair(t)
	g = Conn(raw, Options{}).(passer)
	io.WriteString(peer, "GET / HTTP/1.1\nHost: x\n\n")
	g.(net.Conn).Read(make([]byte, 256))
	g.(net.Conn).SetDeadline(time.Time{})
	if g.Passthrough() != nil {
		t.Error("a connection with a violation was handed out raw")
	}
}
