package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// splice copies both ways between the client and the destination until the
// destination's side ends, the tunnel has been idle for idle, it has lived
// for lifetime, ctx ends or p.Done closes. It counts the bytes each way in
// up and down and returns why it ended.
func (p *Proxy) splice(ctx context.Context, client stream, dst net.Conn, idle, lifetime time.Duration, up, down *int64) string {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var upN, downN atomic.Int64
	var clientDone atomic.Bool
	ended := make(chan string, 2)
	// Between two TCP sockets the copies splice in the kernel: the client's
	// buffered bytes go first, then both ways run on the raw sockets.
	upCopy := func() error { return copyCounting(dst, client, &upN, &last) }
	downCopy := func() error { return copyCounting(client, dst, &downN, &last) }
	if rawClient, rawDst := rawTCP(client), rawTCP(dst); rawClient != nil && rawDst != nil {
		every := checkpoint(idle)
		if p.Progress != nil && (every == 0 || p.reportEvery() < every) {
			// A spliced copy's bytes are counted when it comes back:
			// often enough for the reports of an open tunnel too.
			every = p.reportEvery()
		}
		upCopy = func() error {
			if err := flushBuffered(dst, client, &upN); err != nil {
				return err
			}
			return spliceCounting(rawDst, rawClient, &upN, &last, every)
		}
		downCopy = func() error { return spliceCounting(rawClient, rawDst, &downN, &last, every) }
	}
	var copies sync.WaitGroup
	copies.Add(2)
	go func() {
		defer copies.Done()
		err := upCopy()
		if cw, ok := dst.(interface{ CloseWrite() error }); ok && err == nil {
			// The client is done sending; the destination may still
			// answer, and its close then ends what the client ended.
			clientDone.Store(true)
			cw.CloseWrite()
			return
		}
		ended <- endReason("downstream", err)
	}()
	go func() {
		defer copies.Done()
		err := downCopy()
		if err == nil && clientDone.Load() {
			ended <- "downstream_closed"
			return
		}
		ended <- endReason("upstream", err)
	}()
	stopReport := p.report(ctx, &upN, &downN)
	why := p.watch(ctx, ended, &last, idle, lifetime)
	client.Close()
	dst.Close()
	// Nothing writes to the client once splice returns: an HTTP/2
	// stream's response ends with the handler.
	copies.Wait()
	stopReport()
	*up, *down = upN.Load(), downN.Load()
	return why
}

// watch waits for the tunnel to end, or ends it.
func (p *Proxy) watch(ctx context.Context, ended <-chan string, last *atomic.Int64, idle, lifetime time.Duration) string {
	life := time.NewTimer(lifetime)
	defer life.Stop()
	tick := time.NewTimer(idle)
	defer tick.Stop()
	for {
		select {
		case why := <-ended:
			return why
		case <-life.C:
			return "max_tunnel_lifetime"
		case <-ctx.Done():
			return "downstream_gone"
		case <-p.Done:
			return "drain_timeout"
		case <-tick.C:
			since := time.Since(time.Unix(0, last.Load()))
			if since >= idle {
				return "idle_timeout"
			}
			tick.Reset(idle - since)
		}
	}
}

func endReason(side string, err error) string {
	if err == nil || errors.Is(err, io.EOF) {
		return side + "_closed"
	}
	return side + "_reset"
}

// copyCounting copies src to dst, counting bytes into n and stamping last
// at each chunk; it returns nil at src's end.
func copyCounting(dst io.Writer, src io.Reader, n, last *atomic.Int64) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		k, err := src.Read(buf)
		if k > 0 {
			last.Store(time.Now().UnixNano())
			w, werr := dst.Write(buf[:k])
			n.Add(int64(w))
			if werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// rawTCP returns the TCP socket under c when every layer between them
// passes bytes through unchanged: the connection left by a hijack, once
// the HTTP/1 guard has stepped aside (Passthrough) and past connection
// limits (NetConn). It returns nil for a TLS connection, whose bytes on the
// socket are not the tunnel's, and for an HTTP/2 stream.
func rawTCP(c io.Reader) *net.TCPConn {
	for {
		switch x := c.(type) {
		case *net.TCPConn:
			return x
		case *bufferedConn:
			c = x.Conn
		case interface{ Passthrough() net.Conn }:
			inner := x.Passthrough()
			if inner == nil {
				return nil
			}
			c = inner
		case interface{ ConnectionState() tls.ConnectionState }:
			return nil
		case interface{ NetConn() net.Conn }:
			c = x.NetConn()
		default:
			return nil
		}
	}
}

// flushBuffered writes to dst what the server had read past the CONNECT,
// before the copy goes on from the socket.
func flushBuffered(dst io.Writer, client stream, n *atomic.Int64) error {
	b, ok := client.(*bufferedConn)
	if !ok || b.r.Buffered() == 0 {
		return nil
	}
	rest, _ := b.r.Peek(b.r.Buffered())
	w, err := dst.Write(rest)
	n.Add(int64(w))
	b.r.Discard(w)
	return err
}

// checkpoint is how often a spliced copy comes back to say that bytes
// moved: a quarter of the idle timeout, so that an idle tunnel ends
// between idle and 1.25 × idle after its last byte.
func checkpoint(idle time.Duration) time.Duration {
	if idle <= 0 {
		return 0
	}
	return max(idle/4, time.Millisecond)
}

// spliceCounting copies src to dst in the kernel (TCPConn.ReadFrom splices
// on Linux), counting bytes into n. The copy cannot stamp last at each
// chunk, so it stops every interval (a read deadline) to stamp it when
// bytes moved, and goes on. It returns nil at src's end.
func spliceCounting(dst, src *net.TCPConn, n, last *atomic.Int64, every time.Duration) error {
	for {
		if every > 0 {
			src.SetReadDeadline(time.Now().Add(every))
		}
		k, err := dst.ReadFrom(src)
		if k > 0 {
			n.Add(k)
			last.Store(time.Now().UnixNano())
		}
		if err == nil {
			return nil
		}
		if every > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		return err
	}
}
