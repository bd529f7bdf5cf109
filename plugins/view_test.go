package plugins_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// TestStdHeader runs the header contract on every view of a net/http map:
// request and response headers, and trailers, whose map is nil until the
// first write.
func TestStdHeader(t *testing.T) {
	views := map[string]func() plugins.Header{
		"request header":   func() plugins.Header { return plugintest.Get(nil).Header() },
		"request trailer":  func() plugins.Header { return plugintest.Get(nil).Trailer() },
		"response header":  func() plugins.Header { return plugintest.Response(&http.Response{}).Header() },
		"response trailer": func() plugins.Header { return plugintest.Response(&http.Response{}).Trailer() },
	}
	for name, empty := range views {
		t.Run(name, func(t *testing.T) { plugintest.CheckHeader(t, empty) })
	}
}

// TestFlatHeader runs the header contract on a header kept as a list of
// fields in wire order, as an engine that parses into its own buffers keeps
// it: the contract does not need net/http's map.
func TestFlatHeader(t *testing.T) {
	plugintest.CheckHeader(t, func() plugins.Header { return &flatHeader{} })
}

// TestHeaderReadsAllocateNothing reads fields by canonical, lower-case, odd
// and absent names.
func TestHeaderReadsAllocateNothing(t *testing.T) {
	req := plugintest.Get(http.Header{
		"Authorization": {"Bearer x"}, "X-Api-Key": {"k"}, "Accept": {"a", "b"},
	})
	h := req.Header()
	long := strings.Repeat("x-long-", 8) + "name" // longer than the stack buffer
	reads := []string{"Authorization", "authorization", "X-API-KEY", "x-api-key", "accept", "X-Absent", "x_api_key", "bad name", long}
	var sink int
	allocs := testing.AllocsPerRun(200, func() {
		for _, n := range reads[:len(reads)-1] {
			sink += len(h.Get(n)) + len(h.Values(n))
		}
		h.Each(countValue)
		sink += h.Len()
	})
	if allocs != 0 {
		t.Errorf("got %v allocations reading, want 0", allocs)
	}
	if got := h.Get("x-api-key"); got != "k" {
		t.Errorf("got %q, want k", got)
	}
	_ = sink
}

// TestRequestView reads every part of a request that came over each
// protocol, and replaces its body.
func TestRequestView(t *testing.T) {
	h := handlerFunc(func(_ context.Context, req *plugins.Request) error {
		b, err := io.ReadAll(req.Body())
		if err != nil {
			return err
		}
		if n := req.ContentLength(); n != int64(len(b)) {
			return &plugins.Reject{Status: 400, Details: "length " + strings.Repeat("?", int(n))}
		}
		req.SetBody(io.NopCloser(strings.NewReader(strings.ToUpper(string(b))+"!")), int64(len(b))+1)
		req.Header().Set("X-Seen", req.Header().Get("x-api-key"))
		return nil
	})
	for _, proto := range plugintest.Protocols {
		t.Run(proto, func(t *testing.T) {
			o := plugintest.Run(t, proto, h, plugintest.Exchange{
				Method: "POST", Target: "/a/b?x=1&y", Host: "api.example.com",
				Header: http.Header{"X-Api-Key": {"k1"}}, Body: "hello",
			})
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			scheme := "https"
			if proto == "HTTP/1.1" {
				scheme = "http"
			}
			got := []string{o.Method, o.Scheme, o.Authority, o.Path, o.Query, o.Protocol, o.Body, o.Header.Get("X-Seen"), o.Header.Get("Content-Length")}
			want := []string{"POST", scheme, "api.example.com", "/a/b", "x=1&y", proto, "HELLO!", "k1", "6"}
			if proto != "HTTP/1.1" && o.Header.Get("Content-Length") == "" {
				want[8] = "" // HTTP/2 and HTTP/3 clients may leave the length out
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestSetBodyUnknownLength drops Content-Length for a body of unknown
// length, and SetBody(nil) leaves an empty body.
func TestSetBodyUnknownLength(t *testing.T) {
	req := plugintest.Parse(t, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
	req.SetBody(io.NopCloser(strings.NewReader("stream")), -1)
	if got := req.Header().Values("Content-Length"); got != nil || req.ContentLength() != -1 {
		t.Errorf("got Content-Length %q and length %d, want none and -1", got, req.ContentLength())
	}
	req.SetBody(nil, 7)
	if b, _ := io.ReadAll(req.Body()); len(b) != 0 || req.ContentLength() != 0 || req.Header().Get("Content-Length") != "0" {
		t.Errorf("got body %q, length %d, Content-Length %q, want an empty body", b, req.ContentLength(), req.Header().Get("Content-Length"))
	}
}

// TestHTTPRequest checks the escape hatch: built once, sharing the header,
// while the matched path and the method stay the view's.
func TestHTTPRequest(t *testing.T) {
	req := plugintest.Parse(t, "GET /a%2Fb?q=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\n\r\n")
	r := req.HTTPRequest()
	if r != req.HTTPRequest() {
		t.Error("got a new request from the second call, want the first one")
	}
	r.Header.Set("X-From-Handler", "yes")
	if got := req.Header().Get("X-From-Handler"); got != "yes" {
		t.Errorf("got %q, want the handler's header edit in the view", got)
	}
	r.URL.Path, r.URL.RawPath, r.Method = "/admin", "", "DELETE"
	if req.Path() != "/a%2Fb" || req.Method() != "GET" {
		t.Errorf("got %s %s after the copy changed, want GET /a%%2Fb", req.Method(), req.Path())
	}
	req.SetBody(io.NopCloser(strings.NewReader("new")), 3)
	if r := req.HTTPRequest(); r.ContentLength != 3 {
		t.Errorf("got length %d in the copy after SetBody, want 3", r.ContentLength)
	}
}

// TestResponseView reads a response and wraps its body.
func TestResponseView(t *testing.T) {
	resp := &http.Response{StatusCode: 201, Body: io.NopCloser(strings.NewReader("body")), ContentLength: 4, Header: http.Header{"Content-Length": {"4"}}}
	v := plugintest.Response(resp)
	if v.Status() != 201 || v.ContentLength() != 4 {
		t.Errorf("got %d, %d, want 201, 4", v.Status(), v.ContentLength())
	}
	v.SetBody(io.NopCloser(io.MultiReader(v.Body(), strings.NewReader("+tail"))), -1)
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "body+tail" || resp.ContentLength != -1 || resp.Header.Get("Content-Length") != "" {
		t.Errorf("got %q, length %d, header %q, want body+tail of unknown length", b, resp.ContentLength, resp.Header.Get("Content-Length"))
	}
	if v := plugintest.Response(&http.Response{}); v.Body() == nil || v.Header() == nil {
		t.Error("got a nil body or header for a bare response, want empty ones")
	}
}

// eachTotal is what countValue adds up: a function that captures nothing
// goes through the interface without an allocation.
var eachTotal int

func countValue(_, value string) bool { eachTotal += len(value); return true }

type handlerFunc func(context.Context, *plugins.Request) error

func (f handlerFunc) HandleRequest(ctx context.Context, req *plugins.Request) error {
	return f(ctx, req)
}

// flatHeader keeps fields in wire order, with names as they came.
type flatHeader struct{ fields []flatField }

type flatField struct{ name, value string }

func (h *flatHeader) Get(name string) string {
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

func (h *flatHeader) Values(name string) []string {
	var vs []string
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			vs = append(vs, f.value)
		}
	}
	return vs
}

func (h *flatHeader) Each(fn func(name, value string) bool) {
	for _, f := range h.fields {
		if !fn(f.name, f.value) {
			return
		}
	}
}

func (h *flatHeader) Len() int { return len(h.fields) }

func (h *flatHeader) Set(name, value string) { h.SetValues(name, []string{value}) }

func (h *flatHeader) SetValues(name string, values []string) {
	h.Del(name)
	h.AddValues(name, values)
}

func (h *flatHeader) Add(name, value string) { h.fields = append(h.fields, flatField{name, value}) }

func (h *flatHeader) AddValues(name string, values []string) {
	for _, v := range values {
		h.Add(name, v)
	}
}

func (h *flatHeader) Del(name string) {
	h.fields = slices.DeleteFunc(h.fields, func(f flatField) bool { return plugins.SameHeaderName(f.name, name) })
}
