package load

import (
	"context"
	"crypto/tls"
	"net/url"
	"sync"
)

// holdIdle opens cfg.Idle keep-alive HTTP/1.1 connections, sends one GET on
// each so the server has served it and parked it as idle, and returns them
// open. A few hundred are dialled at once: enough to be quick, few enough
// not to overflow a listen backlog.
func holdIdle(ctx context.Context, u *url.URL, cfg Config, tlsConf *tls.Config) (held []*h1Conn, failed int) {
	if cfg.Idle == 0 {
		return nil, 0
	}
	head := h1Head("GET", u.RequestURI(), u.Host, nil, 0, false)
	dial := dialer(u, tlsConf, cfg.Timeout, cfg.Proxy)
	var mu sync.Mutex
	var wg sync.WaitGroup
	gate := make(chan struct{}, 200)
	for range cfg.Idle {
		if ctx.Err() != nil {
			break
		}
		gate <- struct{}{}
		wg.Go(func() {
			defer func() { <-gate }()
			// A small read buffer: ten thousand of them must not weigh on
			// the load generator.
			c := &h1Conn{dial: dial, head: head, timeout: cfg.Timeout, bufSize: 4 << 10}
			_, err := c.do()
			mu.Lock()
			defer mu.Unlock()
			if err != nil || c.conn == nil {
				failed++
				c.close()
				return
			}
			held = append(held, c)
		})
	}
	wg.Wait()
	return held, cfg.Idle - len(held)
}
