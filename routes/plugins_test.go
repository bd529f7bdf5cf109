package routes

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
)

// The plugins below stand in for real ones: small configs with yaml tags,
// Build functions that fail the ways real ones do, and handlers that count
// their Close calls so that tests can check nothing leaks.

// handler is a test plugin's handler.
type handler struct {
	name   string
	cfg    any
	mu     sync.Mutex
	closed int
}

var _ plugins.Handler = (*handler)(nil)

func (h *handler) HandleRequest(context.Context, *plugins.Request) error { return nil }

func (h *handler) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed++
	return nil
}

func (h *handler) closes() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// tracker records every handler the test plugins build.
type tracker struct {
	mu    sync.Mutex
	built []*handler
}

func (tr *tracker) factory(name string, config func() any, check func(cfg any) error) plugins.Factory {
	return plugins.Factory{
		Name:   name,
		Config: config,
		Build: func(cfg any) (plugins.Handler, error) {
			if err := check(cfg); err != nil {
				return nil, err
			}
			h := &handler{name: name, cfg: cfg}
			tr.mu.Lock()
			tr.built = append(tr.built, h)
			tr.mu.Unlock()
			return h, nil
		},
	}
}

// handlers returns the handlers built so far.
func (tr *tracker) handlers() []*handler {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]*handler(nil), tr.built...)
}

// checkClosed fails t unless every handler built was closed exactly want
// times.
func (tr *tracker) checkClosed(t *testing.T, want int) {
	t.Helper()
	for i, h := range tr.handlers() {
		if got := h.closes(); got != want {
			t.Errorf("handler %d (%s) closed %d times, want %d", i, h.name, got, want)
		}
	}
}

type headersConfig struct {
	Request struct {
		Set    map[string]string `yaml:"set"`
		Remove []string          `yaml:"remove"`
	} `yaml:"request"`
}

type rateLimitConfig struct {
	PerSecond int    `yaml:"per_second"`
	Burst     int    `yaml:"burst"`
	Key       string `yaml:"key"`
}

type jwtConfig struct {
	Issuer string `yaml:"issuer"`
	JWKS   *struct {
		URL     string        `yaml:"url"`
		Refresh time.Duration `yaml:"refresh"`
	} `yaml:"jwks"`
}

// kitchenConfig has a field of every kind the decoder supports.
type kitchenConfig struct {
	Common   `yaml:",inline"`
	Ratio    float64          `yaml:"ratio"`
	Enabled  bool             `yaml:"enabled"`
	Limit    Size             `yaml:"limit"`
	Window   Duration         `yaml:"window"`
	Nets     []CIDR           `yaml:"nets"`
	Prefix   netip.Prefix     `yaml:"prefix"`
	Weights  map[string]int   `yaml:"weights"`
	Count    *int             `yaml:"count"`
	Small    uint8            `yaml:"small"`
	Rules    []kitchenRule    `yaml:"rules"`
	Fail     string           `yaml:"fail"`
	Optional *kitchenRule     `yaml:"optional"`
	Byname   map[string][]int `yaml:"byname"`
	Tree     *kitchenTree     `yaml:"tree"`
}

// kitchenTree is recursive, so that aliases can nest it without end.
type kitchenTree struct {
	Name string        `yaml:"name"`
	Kids []kitchenTree `yaml:"kids"`
}

// Common is inlined into kitchenConfig.
type Common struct {
	Label string `yaml:"label"`
}

type kitchenRule struct {
	Paths []string `yaml:"paths"`
	Deny  bool     `yaml:"deny"`
}

// testRegistry returns a registry of the test plugins: headers, rate_limit,
// authz and jwt as plugins.Order names them, and kitchen, which Order does
// not name, so it runs last.
func testRegistry(t testing.TB, extra ...func(*tracker) plugins.Factory) (*plugins.Registry, *tracker) {
	tr := &tracker{}
	factories := []plugins.Factory{
		tr.factory("headers", func() any { return new(headersConfig) }, func(cfg any) error {
			if _, bad := cfg.(*headersConfig).Request.Set[""]; bad {
				return &plugins.FieldError{Field: "request.set", Msg: "a header name is empty"}
			}
			return nil
		}),
		tr.factory("rate_limit", func() any { return &rateLimitConfig{Key: "remote_ip"} }, func(cfg any) error {
			c := cfg.(*rateLimitConfig)
			var errs []error
			if c.PerSecond <= 0 {
				errs = append(errs, &plugins.FieldError{Field: "per_second", Msg: fmt.Sprintf("must be > 0, got %d", c.PerSecond)})
			}
			if c.Burst < 0 {
				errs = append(errs, &plugins.FieldError{Field: "burst", Msg: fmt.Sprintf("must not be negative, got %d", c.Burst)})
			}
			if c.Key != "remote_ip" && c.Key != "header" {
				errs = append(errs, fmt.Errorf("bad key: %w", &plugins.FieldError{Field: "key", Msg: fmt.Sprintf("unknown key %q", c.Key)}))
			}
			return errors.Join(errs...)
		}),
		tr.factory("authz", func() any { return new(struct{}) }, func(any) error { return nil }),
		tr.factory("jwt", func() any { return new(jwtConfig) }, func(cfg any) error {
			c := cfg.(*jwtConfig)
			switch {
			case c.Issuer == "":
				return &plugins.FieldError{Field: "issuer", Msg: "is required"}
			case c.JWKS != nil && c.JWKS.URL == "":
				return &plugins.FieldError{Field: "jwks.url", Msg: "is required"}
			}
			return nil
		}),
		tr.factory("kitchen", func() any { return &kitchenConfig{Ratio: 0.5} }, func(cfg any) error {
			c := cfg.(*kitchenConfig)
			switch c.Fail {
			case "field":
				return &plugins.FieldError{Field: "rules[1].paths", Msg: "must not be empty"}
			case "plain":
				return errors.New("the kitchen is closed")
			}
			return nil
		}),
	}
	for _, f := range extra {
		factories = append(factories, f(tr))
	}
	reg, err := plugins.NewRegistry(factories...)
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	return reg, tr
}
