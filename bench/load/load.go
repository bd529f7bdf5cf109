// Package load generates HTTP load for the bench harness: HTTP/1.1 (plain or
// TLS), HTTP/2 (TLS or h2c) and HTTP/3, closed-loop (every worker sends its
// next request as soon as the last one is answered) or open-loop (requests
// are due at a fixed rate and each latency is measured from the time the
// request was due, so a server that stalls cannot hide the stall by slowing
// the sender down: coordinated omission). Latencies go into log-bucketed
// histograms, errors are counted by kind, and the outcome is one Result.
package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config describes one load run.
type Config struct {
	// URL is the target: http:// for h1 and h2c, https:// for h1 over TLS, h2
	// and h3.
	URL string
	// Proto is h1, h2, h2c or h3.
	Proto string
	// Conns is the number of connections; Streams the number of requests in
	// flight on each (HTTP/2 and HTTP/3 only; HTTP/1.1 has one per
	// connection), so Conns×Streams requests are in flight in all.
	Conns, Streams int
	// Duration is how long requests are sent, after the connections are up.
	Duration time.Duration
	// Rate is the fixed request rate of an open-loop run, in requests per
	// second; zero runs closed-loop.
	Rate float64
	// Method is GET or POST; a POST sends Body, or BodySize zero bytes
	// when Body is nil.
	Method   string
	BodySize int
	Body     []byte
	// Header holds extra request header lines, "Name: value"; a
	// Content-Type or User-Agent among them replaces the load generator's
	// own.
	Header []string
	// Expect is the status that counts as an answer; any other is an
	// error of kind status_<code>. Zero counts every status below 400.
	// A WAF's attack load expects 403, so that a WAF that lets the attack
	// through cannot score.
	Expect int
	// NewConn opens a new connection (a full TLS handshake over https) for
	// every request: the handshake-cost scenario. HTTP/1.1 only.
	NewConn bool
	// Idle is a number of extra keep-alive connections opened before the run,
	// each used for one request and then held idle until the run ends.
	Idle int
	// ServerName is the TLS server name sent and verified; CAFile the PEM
	// file of the CA that signed the server's certificate. With no CAFile the
	// certificate is not verified: the bench measures, it does not defend.
	ServerName, CAFile string
	// Timeout bounds each request.
	Timeout time.Duration
	// Proxy, when set, is a forward proxy's host:port: every connection
	// is a CONNECT tunnel through it to the URL's address, with TLS inside
	// the tunnel for https. HTTP/1.1 only.
	Proxy string
	// Progress, when set, receives a progress line every second.
	Progress io.Writer
	// OnStart, when set, is called once the connections are up, just
	// before the clock starts: the moment to start measuring the server.
	// OnStop is called when the last answer is in, before any connection
	// is closed: the moment to stop.
	OnStart, OnStop func()
}

// validate checks the combination of options before anything is dialled.
func (c *Config) validate() (*url.URL, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	var errs []error
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("url %q: scheme must be http or https", c.URL))
	case (c.Proto == "h2" || c.Proto == "h3") && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("proto %s needs an https url, got %q", c.Proto, c.URL))
	case c.Proto == "h2c" && u.Scheme != "http":
		errs = append(errs, fmt.Errorf("proto h2c needs an http url, got %q", c.URL))
	}
	switch c.Proto {
	case "h1", "h2", "h2c", "h3":
	default:
		errs = append(errs, fmt.Errorf("proto must be h1, h2, h2c or h3, got %q", c.Proto))
	}
	if c.Conns < 1 || c.Streams < 1 {
		errs = append(errs, fmt.Errorf("conns and streams must be ≥ 1, got %d and %d", c.Conns, c.Streams))
	}
	if c.Duration <= 0 || c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("duration and timeout must be > 0, got %v and %v", c.Duration, c.Timeout))
	}
	if c.Rate < 0 || c.Idle < 0 || c.BodySize < 0 {
		errs = append(errs, errors.New("rate, idle and body size must not be negative"))
	}
	if c.Method != "GET" && c.Method != "POST" {
		errs = append(errs, fmt.Errorf("method must be GET or POST, got %q", c.Method))
	}
	if c.Body != nil && c.Method != "POST" {
		errs = append(errs, fmt.Errorf("a body needs method POST, got %s", c.Method))
	}
	if c.Proxy != "" && c.Proto != "h1" {
		errs = append(errs, fmt.Errorf("a proxy needs proto h1, got %s", c.Proto))
	}
	if c.Expect != 0 && (c.Expect < 100 || c.Expect > 599) {
		errs = append(errs, fmt.Errorf("expected status must be 100 to 599, got %d", c.Expect))
	}
	for _, h := range c.Header {
		if err := checkHeader(h); err != nil {
			errs = append(errs, err)
		}
	}
	varied := strings.Contains(u.RawQuery, Seq) || bytes.Contains(c.Body, []byte(Seq)) || slices.ContainsFunc(c.Header, func(h string) bool {
		return strings.Contains(h, Seq)
	})
	if strings.Contains(u.Path, Seq) {
		errs = append(errs, fmt.Errorf("url %q: %s varies the query, not the path", c.URL, Seq))
	}
	if varied && c.Proto != "h1" {
		errs = append(errs, fmt.Errorf("%s varies HTTP/1.1 requests only, got proto %s", Seq, c.Proto))
	}
	if c.NewConn && c.Proto != "h1" {
		errs = append(errs, fmt.Errorf("a new connection per request is for h1 only, got %s", c.Proto))
	}
	return u, errors.Join(errs...)
}
