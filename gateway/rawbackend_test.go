package gateway

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rawBackend is an upstream written on raw sockets. It keeps the bytes of
// each request head it receives, so a test sees what went on the wire,
// spellings included, and not what a server's parser made of it; and it can
// give answers net/http would not, such as a 101 nobody asked for. It serves
// one request a connection, then half-closes and waits for the gateway to
// close its end: open counts the connections the gateway has not closed yet,
// so a count that stays above zero is a socket the gateway leaks (in
// CLOSE_WAIT).
type rawBackend struct {
	ln    net.Listener
	heads chan string
	open  atomic.Int64
}

// newRawBackend serves until the test ends. answer writes the response and
// returns when the exchange is over for it; nil answers 200 "ok".
func newRawBackend(t testing.TB, answer func(c net.Conn, br *bufio.Reader, req *http.Request)) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{ln: ln, heads: make(chan string, 64)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.open.Add(1)
			go func() {
				defer b.open.Add(-1)
				defer c.Close()
				b.serve(c, answer)
			}()
		}
	}()
	return b
}

func (b *rawBackend) serve(c net.Conn, answer func(c net.Conn, br *bufio.Reader, req *http.Request)) {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	var head bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		head.WriteString(line)
		if err != nil {
			return
		}
		if line == "\r\n" {
			break
		}
	}
	select {
	case b.heads <- head.String():
	default:
	}
	// The request is parsed from the head already read, then the body
	// from the connection.
	rest := bufio.NewReader(io.MultiReader(bytes.NewReader(head.Bytes()), br))
	req, err := http.ReadRequest(rest)
	switch {
	case answer == nil:
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	case err == nil:
		answer(c, rest, req)
	}
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, br) // until the gateway closes its end
}

func (b *rawBackend) addr() string { return b.ln.Addr().String() }

// next returns the next request head the backend received.
func (b *rawBackend) next(t testing.TB) string {
	t.Helper()
	select {
	case h := <-b.heads:
		return h
	case <-time.After(time.Until(deadline())):
		t.Fatal("the backend received no request")
		return ""
	}
}

// headerLines returns the head's header fields by name as a backend such as
// nginx with underscores_in_headers, or a CGI or WSGI server, reads them:
// case-insensitive, with '_' and '-' the same.
func headerLines(head string) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(head, "\r\n")[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key := strings.ReplaceAll(strings.ToLower(name), "_", "-")
		m[key] = append(m[key], textproto.TrimString(value))
	}
	return m
}

// rawRequest sends raw on a new connection to addr and returns the response
// status line.
func rawRequest(t testing.TB, addr, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	line, err := readStatusLine(c)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	return line
}
