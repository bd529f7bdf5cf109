package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// launchSquid starts squid in the foreground (-N: one process, no
// daemon). Run as root, squid drops to its own user, which must then
// write its logs into the instance's directory.
func launchSquid(h *harness, dir string, a addrs) (*process, error) {
	c := h.contender("squid")
	conf, err := writeConfig(c.tmpl, dir, c.conf, h.params(dir, a))
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// Its directory is writable and the directories above it
		// passable to squid's user; the harness makes them 0700.
		for p := filepath.Dir(dir); strings.HasPrefix(p, h.work); p = filepath.Dir(p) {
			if err := os.Chmod(p, 0o711); err != nil {
				return nil, err
			}
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			return nil, err
		}
	}
	return h.start("squid", dir, []string{c.bin, "-N", "-f", conf}, nil, "")
}

// connectThrough asks the forward proxy at proxy for a tunnel to target
// and returns the connection, the reader of what follows the answer, and
// the answer's status.
func connectThrough(ctx context.Context, proxy, target string) (net.Conn, *bufio.Reader, int, error) {
	d := net.Dialer{Timeout: probeTimeout}
	c, err := d.DialContext(ctx, "tcp", proxy)
	if err != nil {
		return nil, nil, 0, err
	}
	c.SetDeadline(time.Now().Add(2 * probeTimeout))
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		c.Close()
		return nil, nil, 0, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, nil, 0, err
	}
	return c, br, resp.StatusCode, nil
}

// waitEgressReady waits until the forward proxy at a carries GET /1k to
// the backend through a tunnel.
func waitEgressReady(ctx context.Context, p *process, a addrs) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		if p.exited() {
			return fmt.Errorf("%s %w: %s", p.name, errExited, p.logTail())
		}
		last := tunnelGet(ctx, a)
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

// tunnelGet sends GET /1k to the backend through a tunnel of the proxy at a.
func tunnelGet(ctx context.Context, a addrs) error {
	c, br, status, err := connectThrough(ctx, a.plain, a.upstream)
	if err != nil {
		return err
	}
	defer c.Close()
	if status != http.StatusOK {
		return fmt.Errorf("CONNECT %s: status %d", a.upstream, status)
	}
	if _, err := io.WriteString(c, "GET /1k HTTP/1.1\r\nHost: "+a.upstream+"\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /1k through the tunnel: status %d", resp.StatusCode)
	}
	return nil
}

// checkEgress asks the forward proxy at a for tunnels it must refuse: a
// port of the backend's address that is not the backend's, and another
// loopback address at the backend's port. Each must be answered 403
// before any byte of a tunnel; a proxy that allows more than the
// backend would win by checking less.
func checkEgress(ctx context.Context, a addrs) error {
	_, port, err := net.SplitHostPort(a.upstream)
	if err != nil {
		return err
	}
	for _, target := range []string{a.plain, net.JoinHostPort("127.0.0.2", port)} {
		c, _, status, err := connectThrough(ctx, a.plain, target)
		if err != nil {
			return fmt.Errorf("CONNECT %s: %w", target, err)
		}
		c.Close()
		if status != http.StatusForbidden {
			return fmt.Errorf("CONNECT %s, which is not allowed: answered %d, want 403", target, status)
		}
	}
	return nil
}
