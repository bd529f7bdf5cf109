package egress

import (
	"context"
	"errors"
	"io"
	"net"
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
	var copies sync.WaitGroup
	copies.Add(2)
	go func() {
		defer copies.Done()
		err := copyCounting(dst, client, &upN, &last)
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
		err := copyCounting(client, dst, &downN, &last)
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
