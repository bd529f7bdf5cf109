package gateway

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// answerBackend is an upstream that answers each HTTP/1 request with what
// answer writes on the raw connection; it reads the request's header
// first. It is the hostile upstream that net/http's server will not be.
func answerBackend(t testing.TB, answer func(c net.Conn)) string {
	t.Helper()
	return serveRaw(t, nil, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		answer(c)
	})
}

// serveRaw accepts connections on loopback, over TLS when cfg is set, and
// hands each to serve; the connections close when serve returns or the
// test ends.
func serveRaw(t testing.TB, cfg *tls.Config, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// h2Answer writes the response frames to one request stream.
type h2Answer func(w *h2Writer, stream uint32)

// h2Writer writes frames to an HTTP/2 client with one HPACK encoder for
// the connection, splitting header blocks into CONTINUATION frames.
type h2Writer struct {
	fr  *http2.Framer
	buf bytes.Buffer
	enc *hpack.Encoder
}

// headers writes one header block of name, value pairs.
func (w *h2Writer) headers(stream uint32, endStream bool, fields ...string) error {
	w.buf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		w.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	block := w.buf.Bytes()
	const chunk = 16 << 10
	first := block[:min(chunk, len(block))]
	block = block[len(first):]
	err := w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: first, EndStream: endStream, EndHeaders: len(block) == 0})
	for err == nil && len(block) > 0 {
		next := block[:min(chunk, len(block))]
		block = block[len(next):]
		err = w.fr.WriteContinuation(stream, len(block) == 0, next)
	}
	return err
}

// h2Backend is an HTTP/2 upstream, h2c or over TLS with cfg, that answers
// each request stream with answer, written on raw frames.
func h2Backend(t testing.TB, cfg *tls.Config, answer h2Answer) string {
	t.Helper()
	if cfg != nil {
		cfg = cfg.Clone()
		cfg.NextProtos = []string{"h2"}
	}
	return serveRaw(t, cfg, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := io.ReadFull(br, make([]byte, len(http2.ClientPreface))); err != nil {
			return
		}
		w := &h2Writer{fr: http2.NewFramer(c, br)}
		w.enc = hpack.NewEncoder(&w.buf)
		w.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		if w.fr.WriteSettings() != nil {
			return
		}
		for {
			f, err := w.fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					w.fr.WriteSettingsAck()
				}
			case *http2.MetaHeadersFrame:
				answer(w, f.StreamID)
			}
		}
	})
}

// rawExchange sends raw on a new connection to addr and returns all that
// comes back until the gateway closes the connection. It may run on a
// goroutine of its own.
func rawExchange(t testing.TB, addr, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer c.Close()
	io.WriteString(c, raw)
	c.SetReadDeadline(deadline())
	b, _ := io.ReadAll(c)
	return string(b)
}

// statusLines returns the status lines of the HTTP/1 responses in raw.
func statusLines(raw string) []string {
	var out []string
	for _, l := range strings.Split(raw, "\r\n") {
		if strings.HasPrefix(l, "HTTP/1.1 ") {
			out = append(out, l)
		}
	}
	return out
}

// deadline is how long a test waits for what must come; generous, for a
// loaded machine, and never a measure of speed.
func deadline() time.Time { return time.Now().Add(10 * time.Second) }
