package headers_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

func mustBuild(t testing.TB, cfg headers.Config) plugins.Handler {
	t.Helper()
	h, err := headers.Factory().Build(&cfg)
	if err != nil {
		t.Fatalf("got build error %v, want nil", err)
	}
	return h
}

// onRequest runs h on a request carrying hdr and returns the edited header.
func onRequest(t testing.TB, h plugins.Handler, hdr http.Header) http.Header {
	t.Helper()
	if err := h.HandleRequest(context.Background(), plugintest.Get(hdr)); err != nil {
		t.Fatalf("got request error %v, want nil", err)
	}
	return hdr
}

// roundTrip applies h to an empty request header, writes the header as
// HTTP/1.1 does and reads it back, so tests see what an upstream would.
func roundTrip(t *testing.T, h plugins.Handler) http.Header {
	t.Helper()
	var buf bytes.Buffer
	if err := onRequest(t, h, http.Header{}).Write(&buf); err != nil {
		t.Fatalf("got write error %v, want nil", err)
	}
	buf.WriteString("\r\n")
	got, err := textproto.NewReader(bufio.NewReader(&buf)).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("got read error %v for %q, want nil", err, buf.String())
	}
	return http.Header(got)
}

// edits are the cases shared by the request and response tests: the same ops
// must do the same thing on either side.
var edits = []struct {
	name     string
	ops      headers.Ops
	in, want http.Header
}{
	{"set adds", headers.Ops{Set: map[string]string{"x-env": "prod"}},
		http.Header{}, http.Header{"X-Env": {"prod"}}},
	{"set replaces all values", headers.Ops{Set: map[string]string{"X-ENV": "prod"}},
		http.Header{"X-Env": {"dev", "test"}}, http.Header{"X-Env": {"prod"}}},
	{"add to absent", headers.Ops{Add: map[string]string{"x-trace": "on"}},
		http.Header{"Accept": {"*/*"}}, http.Header{"Accept": {"*/*"}, "X-Trace": {"on"}}},
	{"add keeps values", headers.Ops{Add: map[string]string{"x-trace": "on"}},
		http.Header{"X-Trace": {"a", "b"}}, http.Header{"X-Trace": {"a", "b", "on"}}},
	{"add to empty list", headers.Ops{Add: map[string]string{"x-trace": "on"}},
		http.Header{"X-Trace": {}}, http.Header{"X-Trace": {"on"}}},
	{"remove deletes all values", headers.Ops{Remove: []string{"x-internal-debug", "server"}},
		http.Header{"X-Internal-Debug": {"1", "2"}, "Server": {"x"}, "Keep": {"k"}}, http.Header{"Keep": {"k"}}},
	{"remove every spelling a backend reads as the name", headers.Ops{Remove: []string{"x-internal-debug"}},
		http.Header{"X_internal_debug": {"1"}, "X-Internal_Debug": {"2"}, "x-INTERNAL-debug": {"3"}, "X-Internal-Debugger": {"k"}},
		http.Header{"X-Internal-Debugger": {"k"}}},
	{"set replaces every spelling", headers.Ops{Set: map[string]string{"x-api-key": "gateway"}},
		http.Header{"X_api_key": {"forged"}, "X_API_KEY": {"forged"}, "X-Api-Key": {"old"}, "X-Api-Keys": {"k"}},
		http.Header{"X-Api-Key": {"gateway"}, "X-Api-Keys": {"k"}}},
	{"remove a name written with underscores after another", headers.Ops{Remove: []string{"x-debug", "x_api_key"}},
		http.Header{"X-Debug": {"1"}, "X-Api-Key": {"client"}, "Keep": {"k"}}, http.Header{"Keep": {"k"}}},
	{"remove absent", headers.Ops{Remove: []string{"x-internal-debug"}},
		http.Header{"Keep": {"k"}}, http.Header{"Keep": {"k"}}},
	{"remove before add", headers.Ops{Remove: []string{"x-a"}, Add: map[string]string{"x-a": "new"}},
		http.Header{"X-A": {"old"}}, http.Header{"X-A": {"new"}}},
	{"set before add", headers.Ops{Set: map[string]string{"x-a": "1"}, Add: map[string]string{"X-A": "2"}},
		http.Header{"X-A": {"old"}}, http.Header{"X-A": {"1", "2"}}},
}

func TestHandleRequest(t *testing.T) {
	for _, tt := range edits {
		t.Run(tt.name, func(t *testing.T) {
			h := mustBuild(t, headers.Config{Request: tt.ops})
			if got := onRequest(t, h, tt.in.Clone()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHandleResponse(t *testing.T) {
	for _, tt := range edits {
		t.Run(tt.name, func(t *testing.T) {
			// A request edit that must not leak onto the response.
			h := mustBuild(t, headers.Config{Request: headers.Ops{Set: map[string]string{"x-req": "1"}}, Response: tt.ops})
			req := plugintest.Get(nil)
			resp := &http.Response{Header: tt.in.Clone()}
			if err := h.(plugins.ResponseHandler).HandleResponse(context.Background(), req, plugintest.Response(resp)); err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if !reflect.DeepEqual(resp.Header, tt.want) {
				t.Errorf("got %v, want %v", resp.Header, tt.want)
			}
			if req.Header().Len() != 0 {
				t.Errorf("got request header %v after the response, want none", req.HTTPRequest().Header)
			}
		})
	}
}

func TestHandleResponseNilHeader(t *testing.T) {
	h := mustBuild(t, headers.Config{Response: headers.Ops{Set: map[string]string{"x-a": "1"}}})
	resp := &http.Response{}
	if err := h.(plugins.ResponseHandler).HandleResponse(context.Background(), plugintest.Get(nil), plugintest.Response(resp)); err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	if want := (http.Header{"X-A": {"1"}}); !reflect.DeepEqual(resp.Header, want) {
		t.Errorf("got %v, want %v", resp.Header, want)
	}
}

func TestWireFormat(t *testing.T) {
	h := mustBuild(t, headers.Config{Request: headers.Ops{
		Set: map[string]string{"x-env": "prod"},
		Add: map[string]string{"x-trace": "on", "x-empty": ""},
	}})
	want := http.Header{"X-Env": {"prod"}, "X-Trace": {"on"}, "X-Empty": {""}}
	if got := roundTrip(t, h); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSharedValues checks that the value slices shared between requests
// cannot carry one request's edits into another's: appends must copy.
func TestSharedValues(t *testing.T) {
	h := mustBuild(t, headers.Config{Request: headers.Ops{
		Set: map[string]string{"x-env": "prod"},
		Add: map[string]string{"x-trace": "on"},
	}})
	for _, name := range []string{"X-Env", "X-Trace"} {
		t.Run(name, func(t *testing.T) {
			a := onRequest(t, h, http.Header{})
			b := onRequest(t, h, http.Header{})
			if got := cap(a[name]); got != len(a[name]) {
				t.Errorf("got cap %d, want len %d", got, len(a[name]))
			}
			a.Add(name, "from-a")
			b.Add(name, "from-b")
			if want := []string{a[name][0], "from-a"}; !reflect.DeepEqual(a[name], want) {
				t.Errorf("got a %q, want %q", a[name], want)
			}
			if want := []string{b[name][0], "from-b"}; !reflect.DeepEqual(b[name], want) {
				t.Errorf("got b %q, want %q", b[name], want)
			}
			if c := onRequest(t, h, http.Header{}); len(c[name]) != 1 {
				t.Errorf("got a later request's %s %q, want one value", name, c[name])
			}
		})
	}
}

// TestSharedValuesConcurrent lets the race detector watch many requests
// appending to the shared values at once.
func TestSharedValuesConcurrent(t *testing.T) {
	h := mustBuild(t, headers.Config{Request: headers.Ops{Set: map[string]string{"x-env": "prod"}}})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 100 {
				hdr := onRequest(t, h, http.Header{})
				v := fmt.Sprint(i, j)
				hdr.Add("X-Env", v)
				if got := hdr["X-Env"]; len(got) != 2 || got[0] != "prod" || got[1] != v {
					t.Errorf("got %q, want [prod %s]", got, v)
					return
				}
			}
		})
	}
	wg.Wait()
}

// typical is a usual configuration: one header of each op on each side.
var typical = headers.Config{
	Request: headers.Ops{
		Set:    map[string]string{"x-env": "prod"},
		Add:    map[string]string{"x-trace": "on"},
		Remove: []string{"x-internal-debug"},
	},
	Response: headers.Ops{
		Set:    map[string]string{"strict-transport-security": "max-age=63072000"},
		Remove: []string{"server", "x-powered-by"},
	},
}

// typicalRequest returns the request headers a browser might send, with
// the header typical removes.
func typicalRequest() http.Header {
	return http.Header{
		"Accept":           {"text/html"},
		"User-Agent":       {"Mozilla/5.0"},
		"X-Internal-Debug": {"1"},
	}
}

// resetRequest puts a request edited by typical back as it came, without
// allocating, so that every run removes, sets and adds to an absent header.
func resetRequest(hdr http.Header, debug []string) {
	delete(hdr, "X-Trace")
	hdr["X-Internal-Debug"] = debug
}

func TestHandleRequestAllocs(t *testing.T) {
	h := mustBuild(t, typical)
	hdr := typicalRequest()
	req := plugintest.Get(hdr)
	debug := []string{"1"}
	ctx := context.Background()
	got := testing.AllocsPerRun(1000, func() {
		resetRequest(hdr, debug)
		if err := h.HandleRequest(ctx, req); err != nil {
			t.Fatal(err)
		}
	})
	if got != 0 {
		t.Errorf("got %v allocations per request, want 0", got)
	}
}

func BenchmarkHandleRequest(b *testing.B) {
	h := mustBuild(b, typical)
	hdr := typicalRequest()
	req := plugintest.Get(hdr)
	debug := []string{"1"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resetRequest(hdr, debug)
		if err := h.HandleRequest(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandleResponse(b *testing.B) {
	h := mustBuild(b, typical).(plugins.ResponseHandler)
	req := plugintest.Get(nil)
	httpResp := &http.Response{Header: http.Header{"Content-Type": {"text/html"}}}
	resp := plugintest.Response(httpResp)
	server, poweredBy := []string{"nginx"}, []string{"PHP"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		httpResp.Header["Server"], httpResp.Header["X-Powered-By"] = server, poweredBy
		if err := h.HandleResponse(ctx, req, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOverProtocols runs the typical edits on requests that came over
// HTTP/1.1, HTTP/2 and HTTP/3: the view of each is edited alike.
func TestOverProtocols(t *testing.T) {
	h := mustBuild(t, typical)
	for _, proto := range plugintest.Protocols {
		t.Run(proto, func(t *testing.T) {
			o := plugintest.Run(t, proto, h, plugintest.Exchange{Header: http.Header{
				"X-Internal-Debug": {"1"}, "X_internal_debug": {"forged"}, "X-Trace": {"client"}, "X-Env": {"dev"},
			}})
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			got := []string{o.Header.Get("X-Env"), strings.Join(o.Header.Values("X-Trace"), ","),
				o.Header.Get("X-Internal-Debug"), o.Header.Get("X_internal_debug")}
			if want := []string{"prod", "client,on", "", ""}; !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
