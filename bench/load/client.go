package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// roundTripper is one connection's transport for HTTP/2 and HTTP/3: each
// connection gets its own, so Conns connections are really opened and the
// streams of each are multiplexed on it.
type roundTripper interface {
	http.RoundTripper
	CloseIdleConnections()
}

// newTransport builds the transport of one connection for h2, h2c or h3.
func newTransport(proto string, tlsConf *tls.Config, streams int) roundTripper {
	if proto == "h3" {
		return &http3.Transport{
			TLSClientConfig:    tlsConf.Clone(),
			QUICConfig:         &quic.Config{MaxIdleTimeout: time.Minute, KeepAlivePeriod: 10 * time.Second},
			DisableCompression: true,
		}
	}
	tr := &http.Transport{
		TLSClientConfig:     tlsConf.Clone(),
		DisableCompression:  true,
		MaxIdleConnsPerHost: streams,
		IdleConnTimeout:     time.Minute,
		Protocols:           new(http.Protocols),
	}
	if proto == "h2c" {
		tr.Protocols.SetUnencryptedHTTP2(true)
	} else {
		tr.Protocols.SetHTTP2(true)
	}
	return tr
}

// streamer sends requests through a shared connection's transport; one per
// worker, so the request it reuses is never shared.
type streamer struct {
	rt      http.RoundTripper
	method  string
	target  *url.URL
	body    []byte
	header  []string
	expect  int
	timeout time.Duration
}

// do sends one request and drains the answer.
func (s *streamer) do() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	req := &http.Request{
		Method: s.method, URL: s.target, Host: s.target.Host,
		Header: http.Header{"User-Agent": {"portcullis-load"}},
	}
	if len(s.body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(s.body))
		req.ContentLength = int64(len(s.body))
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	for _, h := range s.header {
		req.Header.Set(headerValue(h))
	}
	resp, err := s.rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return n, fmt.Errorf("reading body: %w", err)
	}
	return n, checkStatus(resp.StatusCode, s.expect)
}
