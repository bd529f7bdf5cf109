// Package plugintest runs a plugin as the gateway does, without the gateway:
// against request views built from real requests that came over HTTP/1.1,
// HTTP/2 or HTTP/3 on loopback, or parsed from the raw bytes of one. It also
// holds the helpers that every plugin's configuration tests share.
package plugintest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Parse builds a request from the raw bytes of an HTTP/1.1 request, as the
// gateway would see it from a peer at 127.0.0.1:40000, with the view's path
// and query as the request target gives them. The test may set further facts
// (Identity, Route …) on the result.
func Parse(t testing.TB, raw string) *plugins.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("parsing %q: %v", raw, err)
	}
	r.RemoteAddr = "127.0.0.1:40000"
	return Request(r)
}

// Request builds the view of r that the gateway builds of a request net/http
// or quic-go parsed, with the facts that r gives: the peer and client from
// RemoteAddr, the SNI from its TLS state, the id from X-Request-Id.
func Request(r *http.Request) *plugins.Request {
	v := new(plugins.StdRequest)
	v.Reset(r)
	req := &plugins.Request{RequestView: v, ID: r.Header.Get("X-Request-Id")}
	if peer, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		req.Peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
		req.Client = req.Peer.Addr()
	}
	if r.TLS != nil {
		req.SNI = r.TLS.ServerName
	}
	return req
}

// Get returns a GET for http://example.com/ from 127.0.0.1:40000 over
// HTTP/1.1 that carries header h (none when nil), with its view: a request
// for tests that need no server.
func Get(h http.Header) *plugins.Request {
	if h == nil {
		h = http.Header{}
	}
	return Request(&http.Request{
		Method: http.MethodGet, URL: &url.URL{Path: "/"}, RequestURI: "/", Host: "example.com",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Body: http.NoBody,
		RemoteAddr: "127.0.0.1:40000",
	})
}

// Response builds the view of resp that a response-phase plugin is given.
func Response(resp *http.Response) *plugins.Response {
	v := new(plugins.StdResponse)
	v.Reset(resp)
	return &plugins.Response{ResponseView: v}
}

// Exchange is a request that Run sends.
type Exchange struct {
	// Method defaults to GET, Target to "/", Host to example.com.
	Method, Target, Host string
	Header               http.Header
	Body                 string
	// Facts, when set, is called on the request before the plugin runs, to
	// set what the gateway would have established (Identity, Route …).
	Facts func(*plugins.Request)
}

// Outcome is what a plugin made of a request that Run sent.
type Outcome struct {
	// Err is what HandleRequest returned.
	Err error
	// Method, Scheme, Authority, Path, Query and Protocol are what the
	// plugin read from the view.
	Method, Scheme, Authority, Path, Query, Protocol string
	// Header is the request header after the plugin, as the gateway would
	// forward it (a copy).
	Header http.Header
	// Body is the body after the plugin, read to its end, as the gateway
	// would forward it.
	Body string
}

// Run sends ex over proto (one of Protocols) to a server on 127.0.0.1 that
// builds the request's view as the gateway does and runs h on it, and
// returns the outcome.
func Run(t testing.TB, proto string, h plugins.Handler, ex Exchange) Outcome {
	t.Helper()
	out := make(chan Outcome, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := Request(r)
		if ex.Facts != nil {
			ex.Facts(req)
		}
		o := Outcome{Err: h.HandleRequest(r.Context(), req)}
		o.Method, o.Scheme, o.Authority = req.Method(), req.Scheme(), req.Authority()
		o.Path, o.Query, o.Protocol = req.Path(), req.Query(), req.Protocol()
		o.Header = r.Header.Clone()
		b, err := io.ReadAll(req.Body())
		if err != nil {
			o.Err = errors.Join(o.Err, fmt.Errorf("reading the body: %w", err))
		}
		o.Body = string(b)
		out <- o
		w.WriteHeader(http.StatusNoContent)
	})
	client, base := serve(t, proto, handler)
	method, target, host := ex.Method, ex.Target, ex.Host
	if method == "" {
		method = http.MethodGet
	}
	if target == "" {
		target = "/"
	}
	if host == "" {
		host = "example.com"
	}
	var body io.Reader
	if ex.Body != "" {
		body = strings.NewReader(ex.Body)
	}
	r, err := http.NewRequestWithContext(context.Background(), method, base+target, body)
	if err != nil {
		t.Fatal(err)
	}
	r.Host = host
	for k, vs := range ex.Header {
		r.Header[k] = append([]string(nil), vs...)
	}
	resp, err := client.Do(r)
	if err != nil {
		t.Fatalf("%s: %v", proto, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	select {
	case o := <-out:
		if o.Protocol != proto {
			t.Fatalf("got a request over %s, want %s", o.Protocol, proto)
		}
		return o
	default:
		t.Fatalf("%s: got %s and no request at the server", proto, resp.Status)
		return Outcome{}
	}
}

// Name is the subtest name of the i-th example.
func Name(i int) string { return fmt.Sprint("example ", i+1) }

// FieldErrors returns the *plugins.FieldError values in err, looking into
// errors.Join as a plugin's Build returns them.
func FieldErrors(err error) []*plugins.FieldError {
	var fe *plugins.FieldError
	if errors.As(err, &fe) && err == error(fe) {
		return []*plugins.FieldError{fe}
	}
	var out []*plugins.FieldError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, FieldErrors(e)...)
		}
	}
	return out
}

// CheckFieldErrors checks that a Build returned no handler and exactly the
// field errors want names, in order, each written "field: part of the
// message".
func CheckFieldErrors(t *testing.T, h plugins.Handler, err error, want []string) {
	t.Helper()
	if h != nil {
		t.Errorf("got handler %T, want nil", h)
	}
	fes := FieldErrors(err)
	if len(fes) != len(want) {
		t.Fatalf("got %d field errors (%v), want %d", len(fes), err, len(want))
	}
	for i, fe := range fes {
		field, part, _ := strings.Cut(want[i], ": ")
		if fe.Field != field || !strings.Contains(fe.Msg, part) {
			t.Errorf("got error %d %q, want field %s and a message with %q", i, fe, field, part)
		}
	}
}
