package headers_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// fieldErrors flattens an errors.Join tree into its FieldErrors, in order.

func build(t *testing.T, cfg any) (plugins.Handler, error) {
	t.Helper()
	return headers.Factory().Build(cfg)
}

func TestFactory(t *testing.T) {
	f := headers.Factory()
	if f.Name != "headers" {
		t.Errorf("got name %q, want %q", f.Name, "headers")
	}
	if _, ok := f.Config().(*headers.Config); !ok {
		t.Errorf("got config %T, want *headers.Config", f.Config())
	}
	if _, err := plugins.NewRegistry(f); err != nil {
		t.Errorf("got registry error %v, want nil", err)
	}
}

func TestBuildErrors(t *testing.T) {
	set := func(k, v string) map[string]string { return map[string]string{k: v} }
	tests := []struct {
		name string
		cfg  headers.Config
		// want is one "field: message part" per expected FieldError, in order.
		want []string
	}{
		{"name with space", headers.Config{Request: headers.Ops{Set: set("x env", "a")}}, []string{"request.set: not a valid HTTP token"}},
		{"empty name", headers.Config{Request: headers.Ops{Add: set("", "a")}}, []string{"request.add: not a valid HTTP token"}},
		{"pseudo header", headers.Config{Request: headers.Ops{Set: set(":authority", "evil")}}, []string{"request.set: not a valid HTTP token"}},
		{"colon in name", headers.Config{Response: headers.Ops{Set: set("x-a:b", "c")}}, []string{"response.set: not a valid HTTP token"}},
		{"crlf in name", headers.Config{Request: headers.Ops{Remove: []string{"x-a\r\nx-b"}}}, []string{"request.remove[0]: not a valid HTTP token"}},
		{"non-ascii name", headers.Config{Response: headers.Ops{Remove: []string{"x-ü"}}}, []string{"response.remove[0]: not a valid HTTP token"}},
		{"crlf injection in set", headers.Config{Request: headers.Ops{Set: set("x-a", "ok\r\nX-Injected: 1")}}, []string{"request.set: control character"}},
		{"lf in add", headers.Config{Request: headers.Ops{Add: set("x-a", "a\nb")}}, []string{"request.add: control character"}},
		{"cr alone", headers.Config{Response: headers.Ops{Set: set("x-a", "a\rb")}}, []string{"response.set: control character"}},
		{"nul", headers.Config{Response: headers.Ops{Add: set("x-a", "a\x00b")}}, []string{"response.add: control character"}},
		{"response splitting", headers.Config{Response: headers.Ops{Set: set("location", "/\r\n\r\n<script>")}}, []string{"response.set: control character"}},
		{"connection", headers.Config{Request: headers.Ops{Set: set("connection", "close")}}, []string{"request.set: hop-by-hop"}},
		{"keep-alive", headers.Config{Request: headers.Ops{Add: set("Keep-Alive", "timeout=5")}}, []string{"request.add: hop-by-hop"}},
		{"proxy-connection", headers.Config{Response: headers.Ops{Remove: []string{"proxy-connection"}}}, []string{"response.remove[0]: hop-by-hop"}},
		{"transfer-encoding", headers.Config{Request: headers.Ops{Set: set("TRANSFER-ENCODING", "chunked")}}, []string{"request.set: hop-by-hop"}},
		{"upgrade", headers.Config{Request: headers.Ops{Remove: []string{"upgrade"}}}, []string{"request.remove[0]: hop-by-hop"}},
		{"transfer_encoding", headers.Config{Request: headers.Ops{Set: set("transfer_encoding", "chunked")}}, []string{"request.set: hop-by-hop"}},
		{"content_length", headers.Config{Response: headers.Ops{Add: set("Content_Length", "0")}}, []string{"response.add: frames the message body"}},
		{"te", headers.Config{Request: headers.Ops{Set: set("TE", "trailers")}}, []string{"request.set: hop-by-hop"}},
		{"trailer", headers.Config{Response: headers.Ops{Add: set("trailer", "x-sum")}}, []string{"response.add: hop-by-hop"}},
		{"proxy-authenticate", headers.Config{Response: headers.Ops{Set: set("proxy-authenticate", "Basic")}}, []string{"response.set: hop-by-hop"}},
		{"proxy-authorization", headers.Config{Request: headers.Ops{Remove: []string{"Proxy-Authorization"}}}, []string{"request.remove[0]: hop-by-hop"}},
		{"host", headers.Config{Request: headers.Ops{Set: set("host", "admin.internal")}}, []string{"request.set: host_rewrite"}},
		{"host removed", headers.Config{Request: headers.Ops{Remove: []string{"HOST"}}}, []string{"request.remove[0]: host_rewrite"}},
		{"content-length", headers.Config{Request: headers.Ops{Set: set("content-length", "0")}}, []string{"request.set: smuggling"}},
		{"content-length response", headers.Config{Response: headers.Ops{Add: set("Content-Length", "5")}}, []string{"response.add: smuggling"}},
		{"set and remove", headers.Config{Request: headers.Ops{Set: set("X-Env", "prod"), Remove: []string{"x-env"}}}, []string{"request.set: also removed"}},
		{"set twice by case", headers.Config{Request: headers.Ops{Set: map[string]string{"x-env": "a", "X-Env": "b"}}}, []string{"request.set: listed twice"}},
		{"add twice by case", headers.Config{Response: headers.Ops{Add: map[string]string{"x-a": "1", "X-A": "2"}}}, []string{"response.add: listed twice"}},
		{"remove twice", headers.Config{Response: headers.Ops{Remove: []string{"server", "Server"}}}, []string{"response.remove[1]: listed twice"}},
		{
			"all errors reported",
			headers.Config{
				Request:  headers.Ops{Set: set("host", "x"), Remove: []string{"x-ok", "bad name"}},
				Response: headers.Ops{Add: set("x-a", "\n")},
			},
			[]string{"request.remove[1]: not a valid HTTP token", "request.set: host_rewrite", "response.add: control character"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := build(t, &tt.cfg)
			plugintest.CheckFieldErrors(t, h, err, tt.want)
		})
	}
}

func TestBuildWholeConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  any
		want string
	}{
		{"empty", &headers.Config{}, "nothing to do"},
		{"empty ops", &headers.Config{Request: headers.Ops{Set: map[string]string{}, Remove: []string{}}}, "nothing to do"},
		{"nil config", (*headers.Config)(nil), "want *headers.Config"},
		{"wrong type", headers.Config{}, "want *headers.Config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(t, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBuildHandlerType(t *testing.T) {
	tests := []struct {
		name     string
		cfg      headers.Config
		response bool
	}{
		{"request only", headers.Config{Request: headers.Ops{Set: map[string]string{"x-env": "prod"}}}, false},
		{"response only", headers.Config{Response: headers.Ops{Remove: []string{"server"}}}, true},
		{"both", headers.Config{
			Request:  headers.Ops{Add: map[string]string{"x-trace": "on"}},
			Response: headers.Ops{Set: map[string]string{"x-frame-options": "DENY"}},
		}, true},
		{"empty and odd but valid values", headers.Config{Request: headers.Ops{Set: map[string]string{
			"x-empty": "", "x-tab": "a\tb", "x-utf8": "café", "x-token-chars": "!#$%&'*+-.^_`|~",
		}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := build(t, &tt.cfg)
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			_, response := h.(plugins.ResponseHandler)
			if response != tt.response {
				t.Errorf("got response handler %v (%T), want %v", response, h, tt.response)
			}
			chain := plugins.NewChain([]string{"headers"}, []plugins.Handler{h})
			if chain.HasResponders() != tt.response {
				t.Errorf("got chain.HasResponders() %v, want %v", chain.HasResponders(), tt.response)
			}
		})
	}
}

// hopByHop is written out again here, not shared with the code, so that a
// name dropped from the code's list makes the fuzz target fail.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade",
	"Te", "Trailer", "Proxy-Authenticate", "Proxy-Authorization", "Host", "Content-Length"}

// FuzzSet checks that any name and value the plugin accepts for a request
// header goes on the wire as exactly that one header: nothing injected, no
// framing header touched.
func FuzzSet(f *testing.F) {
	for _, seed := range [][2]string{
		{"x-env", "prod"}, {"x-a", "ok\r\nX-Injected: 1"}, {"host", "evil"}, {"x-a\n", "b"},
		{"TE", "trailers"}, {"x-b", "\x00"}, {"x-c", " padded\t"}, {"x-d", "caf\xc3\xa9"}, {"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		h, err := headers.Factory().Build(&headers.Config{Request: headers.Ops{Set: map[string]string{name: value}}})
		if err != nil {
			return
		}
		got := roundTrip(t, h)
		if len(got) != 1 {
			t.Fatalf("got headers %q on the wire, want one", got)
		}
		for k, vs := range got {
			if slices.Contains(hopByHop, k) {
				t.Errorf("got forbidden header %q accepted", k)
			}
			if want := strings.Trim(value, " \t"); len(vs) != 1 || vs[0] != want {
				t.Errorf("got %s values %q, want [%q]", k, vs, want)
			}
		}
	})
}
