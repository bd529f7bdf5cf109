package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// readyTimeout bounds a server's start: Caddy and the gateway take well
// under a second on loopback; this leaves room for a loaded CI machine.
const readyTimeout = 20 * time.Second

// waitReady waits until p answers GET /1k on its plain address with 200,
// which proves it proxies to the backend, and accepts TCP on its TLS
// address. The probe carries a browser's header, so that a WAF at a high
// paranoia level lets it through.
func waitReady(ctx context.Context, p *process, a addrs) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var last error
	for {
		if p.exited() {
			return fmt.Errorf("%s %w: %s", p.name, errExited, p.logTail())
		}
		last = probe(ctx, client, a)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v: %w (%s)", p.name, readyTimeout, last, p.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func probe(ctx context.Context, client *http.Client, a addrs) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.plain+"/1k", nil)
	if err != nil {
		return err
	}
	setHeader(req, wafHeader, 0)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /1k: status %d", resp.StatusCode)
	}
	c, err := net.DialTimeout("tcp", a.tls, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}
