package ratelimit_test

import (
	"math"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
)

// fieldErrors flattens an errors.Join tree into its FieldErrors, in order.

func ptr(n int) *int { return &n }

// config returns the factory's defaults with per_second 10, edited by edit.
func config(edit func(*ratelimit.Config)) *ratelimit.Config {
	c := ratelimit.Factory().Config().(*ratelimit.Config)
	c.PerSecond = 10
	edit(c)
	return c
}

func TestFactory(t *testing.T) {
	f := ratelimit.Factory()
	if f.Name != "rate_limit" {
		t.Errorf("got name %q, want %q", f.Name, "rate_limit")
	}
	c, ok := f.Config().(*ratelimit.Config)
	if !ok {
		t.Fatalf("got config %T, want *ratelimit.Config", f.Config())
	}
	if c.Key != "remote_ip" || c.MaxKeys != 100000 || c.IPv6Prefix != 128 || c.Burst != nil {
		t.Errorf("got defaults %+v, want key remote_ip, max_keys 100000, ipv6_prefix 128, no burst", c)
	}
	if _, err := plugins.NewRegistry(f); err != nil {
		t.Errorf("got registry error %v, want nil", err)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*ratelimit.Config)
		// want is one "field: message part" per expected FieldError, in order.
		want []string
	}{
		{"per_second left out", func(c *ratelimit.Config) { c.PerSecond = 0 }, []string{"per_second: must be > 0, got 0"}},
		{"per_second negative", func(c *ratelimit.Config) { c.PerSecond = -1 }, []string{"per_second: must be > 0, got -1"}},
		{"per_second NaN", func(c *ratelimit.Config) { c.PerSecond = math.NaN() }, []string{"per_second: must be a finite number"}},
		{"per_second infinite", func(c *ratelimit.Config) { c.PerSecond = math.Inf(1) }, []string{"per_second: must be a finite number"}},
		{"per_second huge", func(c *ratelimit.Config) { c.PerSecond = 1e300 }, []string{"per_second: must be at most 1e+09"}},
		{"burst zero", func(c *ratelimit.Config) { c.Burst = ptr(0) }, []string{"burst: must be >= 1, got 0"}},
		{"burst negative", func(c *ratelimit.Config) { c.Burst = ptr(-5) }, []string{"burst: must be >= 1, got -5"}},
		{"key empty", func(c *ratelimit.Config) { c.Key = "" }, []string{`key: unknown key ""`}},
		{"key unknown", func(c *ratelimit.Config) { c.Key = "ip" }, []string{`key: unknown key "ip"`}},
		{"key case", func(c *ratelimit.Config) { c.Key = "Remote_IP" }, []string{`key: unknown key "Remote_IP"`}},
		{"key header without name", func(c *ratelimit.Config) { c.Key = "header:" }, []string{`key: header name "" is not a valid HTTP token`}},
		{"key header with space", func(c *ratelimit.Config) { c.Key = "header:x api" }, []string{"key: header name \"x api\" is not"}},
		{"key header with crlf", func(c *ratelimit.Config) { c.Key = "header:x\r\ny" }, []string{"key: header name \"x\\r\\ny\" is not"}},
		{"key header pseudo", func(c *ratelimit.Config) { c.Key = "header::authority" }, []string{"key: header name \":authority\" is not"}},
		{"max_keys zero", func(c *ratelimit.Config) { c.MaxKeys = 0 }, []string{"max_keys: must be >= 1, got 0"}},
		{"max_keys negative", func(c *ratelimit.Config) { c.MaxKeys = -1 }, []string{"max_keys: must be >= 1, got -1"}},
		{"ipv6_prefix zero", func(c *ratelimit.Config) { c.IPv6Prefix = 0 }, []string{"ipv6_prefix: must be between 1 and 128, got 0"}},
		{"ipv6_prefix too long", func(c *ratelimit.Config) { c.IPv6Prefix = 129 }, []string{"ipv6_prefix: must be between 1 and 128, got 129"}},
		{"ipv6_prefix with header key", func(c *ratelimit.Config) { c.Key, c.IPv6Prefix = "header:x-api-key", 64 }, []string{"ipv6_prefix: applies only to key remote_ip or principal"}},
		{"ipv6_prefix with route key", func(c *ratelimit.Config) { c.Key, c.IPv6Prefix = "route", 48 }, []string{"ipv6_prefix: applies only"}},
		{"all errors reported", func(c *ratelimit.Config) {
			c.PerSecond, c.Burst, c.Key, c.MaxKeys, c.IPv6Prefix = -1, ptr(0), "cookie", 0, 200
		}, []string{"per_second: must be > 0", "burst: must be >= 1", "key: unknown key", "max_keys: must be >= 1", "ipv6_prefix: must be between"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ratelimit.Factory().Build(config(tt.edit))
			plugintest.CheckFieldErrors(t, h, err, tt.want)
		})
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name string
		cfg  any
		want string // part of the error; empty for none
	}{
		{"defaults", config(func(*ratelimit.Config) {}), ""},
		{"fraction", config(func(c *ratelimit.Config) { c.PerSecond = 0.5 }), ""},
		{"largest rate", config(func(c *ratelimit.Config) { c.PerSecond = 1e9 }), ""},
		{"header key", config(func(c *ratelimit.Config) { c.Key = "header:X-Api-Key" }), ""},
		{"principal key with prefix", config(func(c *ratelimit.Config) { c.Key, c.IPv6Prefix = "principal", 64 }), ""},
		{"route key", config(func(c *ratelimit.Config) { c.Key, c.Burst, c.MaxKeys = "route", ptr(1), 1 }), ""},
		{"nil config", (*ratelimit.Config)(nil), "want *ratelimit.Config"},
		{"wrong type", ratelimit.Config{}, "want *ratelimit.Config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ratelimit.Factory().Build(tt.cfg)
			switch {
			case tt.want == "" && (err != nil || h == nil):
				t.Errorf("got %T, %v, want a handler", h, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
