package load

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"
)

// Run dials the connections, holds the idle ones, sends load for
// cfg.Duration and returns the merged result. Connections are opened and
// used once before the clock starts, so only the new-connection scenario
// measures handshakes.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	u, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	tlsConf, err := clientTLS(u, cfg)
	if err != nil {
		return nil, err
	}
	idle, idleFailed := holdIdle(ctx, u, cfg, tlsConf)
	defer func() {
		for _, c := range idle {
			c.conn.Close()
		}
	}()

	dos, closers := workers(u, cfg, tlsConf)
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	if !cfg.NewConn {
		warm(dos, cfg.Streams)
	}

	if cfg.OnStart != nil {
		cfg.OnStart()
	}
	clk := realClock{}
	start := clk.Now()
	end := start.Add(cfg.Duration)
	if dl, ok := ctx.Deadline(); ok && dl.Before(end) {
		end = dl
	}
	var sched *schedule
	mode := "closed"
	if cfg.Rate > 0 {
		sched, mode = newSchedule(start, cfg.Rate), "open"
	}
	sh := new(shared)
	stop := progress(cfg.Progress, start, sh)
	tallies := make([]*tally, len(dos))
	var wg sync.WaitGroup
	for i, do := range dos {
		tallies[i] = newTally()
		wg.Go(func() { work(clk, sched, end, do, tallies[i], sh) })
	}
	wg.Wait()
	stop()
	if cfg.OnStop != nil {
		cfg.OnStop()
	}

	r := &Result{
		URL: cfg.URL, Proto: cfg.Proto, Mode: mode, Conns: cfg.Conns, Streams: cfg.Streams,
		Rate: cfg.Rate, Seconds: clk.Now().Sub(start).Seconds(), Idle: len(idle), IdleFailed: idleFailed,
	}
	r.merge(tallies)
	return r, nil
}

// clientTLS is the TLS configuration every connection of the run shares.
// X25519 alone is offered so that every contender does the same key
// exchange; Go would otherwise offer a post-quantum hybrid that some peers
// take and others do not, and the handshake scenario would compare unlike
// work.
func clientTLS(u *url.URL, cfg Config) (*tls.Config, error) {
	conf := &tls.Config{
		ServerName:         cfg.ServerName,
		CurvePreferences:   []tls.CurveID{tls.X25519},
		InsecureSkipVerify: cfg.CAFile == "",
		NextProtos:         []string{"http/1.1"},
	}
	if conf.ServerName == "" {
		conf.ServerName = u.Hostname()
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca file: %w", err)
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca file %s: no certificate found", cfg.CAFile)
		}
	}
	return conf, nil
}

// dialer returns the dial function of raw HTTP/1.1 connections to u,
// each a CONNECT tunnel through proxy when it is set.
func dialer(u *url.URL, tlsConf *tls.Config, timeout time.Duration, proxy string) func() (net.Conn, error) {
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	d := &net.Dialer{Timeout: timeout}
	if proxy != "" {
		return func() (net.Conn, error) {
			c, err := connectVia(d, proxy, addr, timeout)
			if err != nil || u.Scheme != "https" {
				return c, err
			}
			tc := tls.Client(c, tlsConf)
			c.SetDeadline(time.Now().Add(timeout))
			if err := tc.Handshake(); err != nil {
				c.Close()
				return nil, err
			}
			c.SetDeadline(time.Time{})
			return tc, nil
		}
	}
	if u.Scheme == "https" {
		td := &tls.Dialer{NetDialer: d, Config: tlsConf}
		return func() (net.Conn, error) { return td.Dial("tcp", addr) }
	}
	return func() (net.Conn, error) { return d.Dial("tcp", addr) }
}

// workers builds one request function per worker, and the functions that
// close what they opened.
func workers(u *url.URL, cfg Config, tlsConf *tls.Config) (dos []func() (int64, error), closers []func()) {
	var body []byte
	if cfg.Method == "POST" {
		body = cfg.Body
		if body == nil {
			body = make([]byte, cfg.BodySize)
		}
	}
	if cfg.Proto == "h1" {
		body, bodyAt := slots(body)
		head, headAt := slots(h1Head(cfg.Method, u.RequestURI(), u.Host, cfg.Header, len(body), cfg.NewConn))
		dial := dialer(u, tlsConf, cfg.Timeout, cfg.Proxy)
		for i := range cfg.Conns {
			c := &h1Conn{dial: dial, head: head, body: body, timeout: cfg.Timeout, fresh: cfg.NewConn, bufSize: 32 << 10,
				expect: cfg.Expect}
			if headAt != nil || bodyAt != nil {
				// Each connection writes its requests' numbers into
				// its own copy.
				c.head, c.body = slices.Clone(head), slices.Clone(body)
				c.headAt, c.bodyAt, c.seq, c.step = headAt, bodyAt, uint64(i), uint64(cfg.Conns)
			}
			dos = append(dos, c.do)
			closers = append(closers, c.close)
		}
		return dos, closers
	}
	for range cfg.Conns {
		rt := newTransport(cfg.Proto, tlsConf, cfg.Streams)
		closers = append(closers, rt.CloseIdleConnections)
		for range cfg.Streams {
			s := &streamer{rt: rt, method: cfg.Method, target: u, body: body, header: cfg.Header, expect: cfg.Expect, timeout: cfg.Timeout}
			dos = append(dos, s.do)
		}
	}
	return dos, closers
}

// warm sends one request on every connection before the clock starts, so
// dials and handshakes are not measured; one worker per connection does it.
func warm(dos []func() (int64, error), streams int) {
	var wg sync.WaitGroup
	for i := 0; i < len(dos); i += streams {
		wg.Go(func() { _, _ = dos[i]() })
	}
	wg.Wait()
}

// connectVia opens a CONNECT tunnel to addr through the forward proxy at
// proxy; a proxy that does not answer 200 fails the dial with its status.
func connectVia(d *net.Dialer, proxy, addr string, timeout time.Duration) (net.Conn, error) {
	c, err := d.Dial("tcp", proxy)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", addr, addr); err != nil {
		c.Close()
		return nil, err
	}
	// The answer is read a byte at a time, so that nothing of the tunnel
	// is read with it.
	br := bufio.NewReaderSize(oneByte{c}, 16)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, &connectError{code: resp.StatusCode}
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// oneByte reads at most one byte at a time.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 1)]) }
