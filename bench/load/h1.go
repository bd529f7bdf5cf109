package load

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// h1Conn is a minimal HTTP/1.1 client over one connection. net/http's
// client spends more CPU per request than a fast proxy does, and the load
// generator has one core, so the hot path here writes a request formatted
// once and parses only what framing needs: the status, Content-Length,
// chunked transfer coding and Connection: close.
type h1Conn struct {
	dial    func() (net.Conn, error)
	head    []byte
	body    []byte
	timeout time.Duration
	// fresh closes the connection after each request (a new connection,
	// and with TLS a new handshake, per request).
	fresh bool
	// bufSize is the read buffer's size.
	bufSize int
	// expect is the status that counts as an answer (Config.Expect).
	expect int
	// headAt and bodyAt are where head and body hold a request's number
	// (Seq); each connection has its own copy of head and body then. seq
	// is the next request's number and step the distance to the one after,
	// the number of connections, so no two requests of a run share one.
	headAt, bodyAt []int
	seq, step      uint64

	conn net.Conn
	br   *bufio.Reader
}

// h1Head formats the request head once for the whole run, with the extra
// header lines given.
func h1Head(method, path, host string, header []string, bodySize int, closeConn bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	if !hasHeader(header, "User-Agent") {
		b.WriteString("User-Agent: portcullis-load\r\n")
	}
	for _, h := range header {
		name, value := headerValue(h)
		fmt.Fprintf(&b, "%s: %s\r\n", name, value)
	}
	if method == "POST" {
		if !hasHeader(header, "Content-Type") {
			b.WriteString("Content-Type: application/octet-stream\r\n")
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n", bodySize)
	}
	if closeConn {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// do sends one request and reads the whole answer, returning the body size.
func (c *h1Conn) do() (int64, error) {
	if c.conn == nil {
		conn, err := c.dial()
		if err != nil {
			return 0, err
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, c.bufSize)
		} else {
			c.br.Reset(conn)
		}
	}
	n, keep, err := c.exchange()
	if err != nil || !keep || c.fresh {
		c.conn.Close()
		c.conn = nil
	}
	return n, err
}

// close closes the connection if one is open.
func (c *h1Conn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (c *h1Conn) exchange() (n int64, keep bool, err error) {
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, false, err
	}
	if c.headAt != nil || c.bodyAt != nil {
		fillSeq(c.head, c.headAt, c.seq)
		fillSeq(c.body, c.bodyAt, c.seq)
		c.seq += c.step
	}
	if len(c.body) == 0 {
		_, err = c.conn.Write(c.head)
	} else {
		bufs := net.Buffers{c.head, c.body}
		_, err = bufs.WriteTo(c.conn)
	}
	if err != nil {
		return 0, false, err
	}
	return readResponse(c.br, c.expect)
}

// readResponse reads one response and discards its body. keep is false
// when the server will close the connection after it. A status other than
// expect (with expect zero, one of 400 or more) is a statusError.
func readResponse(br *bufio.Reader, expect int) (n int64, keep bool, err error) {
	for {
		line, err := readLine(br)
		if err != nil {
			return 0, false, err
		}
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			return 0, false, fmt.Errorf("malformed status line %q", line)
		}
		code, err := strconv.Atoi(string(line[9:12]))
		if err != nil {
			return 0, false, fmt.Errorf("malformed status line %q", line)
		}
		length, chunked, closing, err := readHeader(br)
		if err != nil {
			return 0, false, err
		}
		if code >= 100 && code < 200 {
			continue // an interim answer; the real one follows
		}
		keep = !closing && line[7] == '1'
		var got int
		switch {
		case chunked:
			got, err = discardChunked(br)
		case length >= 0:
			got, err = br.Discard(int(length))
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
		case code == 204 || code == 304:
		default:
			// No length: the body runs to the end of the connection.
			var m int64
			m, err = io.Copy(io.Discard, br)
			got, keep = int(m), false
		}
		n = int64(got)
		if err != nil {
			return n, false, err
		}
		return n, keep, checkStatus(code, expect)
	}
}
