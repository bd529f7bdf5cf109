package plugins_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

func factory(name string) plugins.Factory {
	return plugins.Factory{
		Name:   name,
		Config: func() any { return new(struct{}) },
		Build:  func(any) (plugins.Handler, error) { return &recorder{name: name}, nil },
	}
}

// section and open make a plugin with a top-level section.
func section() any { return new(struct{}) }

func open(any) (plugins.Scope, error) { return nil, nil }

func TestNewRegistry(t *testing.T) {
	incomplete := func(edit func(*plugins.Factory)) plugins.Factory {
		f := factory("x")
		edit(&f)
		return f
	}
	tests := []struct {
		name      string
		factories []plugins.Factory
		want      string // part of the error; empty for none
	}{
		{"none", nil, ""},
		{"two", []plugins.Factory{factory("b"), factory("a")}, ""},
		{"duplicate", []plugins.Factory{factory("a"), factory("b"), factory("a")}, `plugin "a" is registered twice`},
		{"no name", []plugins.Factory{incomplete(func(f *plugins.Factory) { f.Name = "" })}, "incomplete"},
		{"no config", []plugins.Factory{incomplete(func(f *plugins.Factory) { f.Config = nil })}, `"x" is incomplete`},
		{"no build", []plugins.Factory{incomplete(func(f *plugins.Factory) { f.Build = nil })}, `"x" is incomplete`},
		{"section", []plugins.Factory{incomplete(func(f *plugins.Factory) { f.Build, f.Section, f.Open = nil, section, open })}, ""},
		{"section without open", []plugins.Factory{incomplete(func(f *plugins.Factory) { f.Build, f.Section = nil, section })}, `"x" is incomplete`},
		{"open without section", []plugins.Factory{incomplete(func(f *plugins.Factory) { f.Build, f.Open = nil, open })}, `"x" is incomplete`},
		{"section and build", []plugins.Factory{incomplete(func(f *plugins.Factory) { f.Section, f.Open = section, open })}, `"x" is incomplete`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := plugins.NewRegistry(tt.factories...)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got error %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			case tt.want != "" && r != nil:
				t.Errorf("got registry %v, want nil", r)
			case tt.want == "" && len(r.Names()) != len(tt.factories):
				t.Errorf("got names %q, want %d", r.Names(), len(tt.factories))
			}
		})
	}
}

func TestRegistryLookupAndNames(t *testing.T) {
	r, err := plugins.NewRegistry(factory("rate_limit"), factory("authz"), factory("jwt"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Names(), []string{"authz", "jwt", "rate_limit"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got names %q, want %q", got, want)
	}
	tests := []struct {
		name string
		ok   bool
	}{{"authz", true}, {"rate_limit", true}, {"waf", false}, {"", false}, {"AUTHZ", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := r.Lookup(tt.name)
			if ok != tt.ok {
				t.Fatalf("got ok %v, want %v", ok, tt.ok)
			}
			if ok && f.Name != tt.name {
				t.Errorf("got factory %q, want %q", f.Name, tt.name)
			}
		})
	}
}

func TestNilRegistry(t *testing.T) {
	var r *plugins.Registry
	if _, ok := r.Lookup("authz"); ok {
		t.Error("got ok true from a nil registry, want false")
	}
	if got := r.Names(); got != nil {
		t.Errorf("got names %q from a nil registry, want nil", got)
	}
}

func TestRank(t *testing.T) {
	// The security order is the contract: a token before the policy that
	// reads its claims, the policy before rate limits, rate limits before
	// the WAF.
	for i, pair := range [][2]string{{"jwt", "authz"}, {"authz", "rate_limit"}, {"rate_limit", "waf"}, {"waf", "headers"}} {
		if a, b := plugins.Rank(pair[0]), plugins.Rank(pair[1]); a >= b {
			t.Errorf("pair %d: got Rank(%s) %d >= Rank(%s) %d, want it lower", i, pair[0], a, pair[1], b)
		}
	}
	tests := []struct {
		name string
		want int
	}{{"jwt", 0}, {"waf", 3}, {"unknown", len(plugins.Order)}, {"", len(plugins.Order)}, {"JWT", len(plugins.Order)}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plugins.Rank(tt.name); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRejectError(t *testing.T) {
	tests := []struct {
		name string
		r    *plugins.Reject
		want string
	}{
		{"details", &plugins.Reject{Status: 403, Flag: "-", Details: "rbac_access_denied_matched_policy[none]"},
			"rejected with 403: rbac_access_denied_matched_policy[none]"},
		{"no details", &plugins.Reject{Status: 429, Flag: "RL", Body: "slow down"}, "rejected with 429"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFieldError(t *testing.T) {
	err := error(&plugins.FieldError{Field: "limits.burst", Msg: "must be > 0, got -1"})
	if got, want := err.Error(), "limits.burst: must be > 0, got -1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// recorder is a handler that notes each call in a shared log and returns err.
type recorder struct {
	name string
	log  *[]string
	err  error
}

func (r *recorder) HandleRequest(context.Context, *plugins.Request) error {
	if r.log != nil {
		*r.log = append(*r.log, "request "+r.name)
	}
	return r.err
}

// responder is a recorder that also handles responses.
type responder struct {
	recorder
	respErr error
}

func (r *responder) HandleResponse(context.Context, *plugins.Request, *plugins.Response) error {
	*r.log = append(*r.log, "response "+r.name)
	return r.respErr
}

// closer is a recorder that holds resources.
type closer struct {
	recorder
	closed bool
	err    error
}

func (c *closer) Close() error {
	c.closed = true
	return c.err
}

func TestChainRuns(t *testing.T) {
	reject := &plugins.Reject{Status: 403, Details: "denied"}
	respErr := errors.New("response refused")
	tests := []struct {
		name string
		// make builds the handlers around the shared log.
		make         func(log *[]string) []plugins.Handler
		wantRequest  []string
		wantReqErr   error
		wantResponse []string
		wantRespErr  error
	}{
		{
			name: "order",
			make: func(log *[]string) []plugins.Handler {
				return []plugins.Handler{
					&responder{recorder: recorder{name: "a", log: log}},
					&recorder{name: "b", log: log},
					&responder{recorder: recorder{name: "c", log: log}},
				}
			},
			wantRequest:  []string{"request a", "request b", "request c"},
			wantResponse: []string{"response c", "response a"},
		},
		{
			name: "first request error stops",
			make: func(log *[]string) []plugins.Handler {
				return []plugins.Handler{
					&recorder{name: "a", log: log},
					&recorder{name: "b", log: log, err: reject},
					&recorder{name: "c", log: log, err: errors.New("not reached")},
				}
			},
			wantRequest: []string{"request a", "request b"},
			wantReqErr:  reject,
		},
		{
			name: "first response error stops",
			make: func(log *[]string) []plugins.Handler {
				return []plugins.Handler{
					&responder{recorder: recorder{name: "a", log: log}},
					&responder{recorder: recorder{name: "b", log: log}, respErr: respErr},
				}
			},
			wantRequest:  []string{"request a", "request b"},
			wantResponse: []string{"response b"},
			wantRespErr:  respErr,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			handlers := tt.make(&log)
			names := make([]string, len(handlers))
			c := plugins.NewChain(names, handlers)
			if c.Len() != len(handlers) {
				t.Errorf("got Len %d, want %d", c.Len(), len(handlers))
			}
			if got, want := c.HasResponders(), tt.wantResponse != nil; got != want {
				t.Errorf("got HasResponders %v, want %v", got, want)
			}
			req := plugintest.Get(nil)
			if err := c.HandleRequest(context.Background(), req); err != tt.wantReqErr {
				t.Errorf("got request error %v, want %v", err, tt.wantReqErr)
			}
			if !reflect.DeepEqual(log, tt.wantRequest) {
				t.Errorf("got request calls %q, want %q", log, tt.wantRequest)
			}
			log = nil
			if err := c.HandleResponse(context.Background(), req, plugintest.Response(&http.Response{})); err != tt.wantRespErr {
				t.Errorf("got response error %v, want %v", err, tt.wantRespErr)
			}
			if !reflect.DeepEqual(log, tt.wantResponse) {
				t.Errorf("got response calls %q, want %q", log, tt.wantResponse)
			}
		})
	}
}

func TestChainClose(t *testing.T) {
	errB, errD := errors.New("b failed"), errors.New("d failed")
	a, b := &closer{recorder: recorder{name: "a"}}, &closer{recorder: recorder{name: "b"}, err: errB}
	d := &closer{recorder: recorder{name: "d"}, err: errD}
	c := plugins.NewChain([]string{"a", "b", "c", "d"}, []plugins.Handler{a, b, &recorder{name: "c"}, d})
	err := c.Close()
	if !errors.Is(err, errB) || !errors.Is(err, errD) {
		t.Errorf("got error %v, want both %v and %v", err, errB, errD)
	}
	for _, cl := range []*closer{a, b, d} {
		if !cl.closed {
			t.Errorf("got %s not closed, want closed", cl.name)
		}
	}

	clean := plugins.NewChain([]string{"a"}, []plugins.Handler{&closer{recorder: recorder{name: "a"}}})
	if err := clean.Close(); err != nil {
		t.Errorf("got error %v from closers that succeed, want nil", err)
	}
}

func TestNilChain(t *testing.T) {
	var c *plugins.Chain
	ctx := context.Background()
	req := plugintest.Get(nil)
	if c.Len() != 0 {
		t.Errorf("got Len %d, want 0", c.Len())
	}
	if c.HasResponders() {
		t.Error("got HasResponders true, want false")
	}
	if err := c.HandleRequest(ctx, req); err != nil {
		t.Errorf("got request error %v, want nil", err)
	}
	if err := c.HandleResponse(ctx, req, plugintest.Response(&http.Response{})); err != nil {
		t.Errorf("got response error %v, want nil", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("got close error %v, want nil", err)
	}
}
