package ratelimit

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"time"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Name is the plugin's key in the routes file.
const Name = "rate_limit"

// maxPerSecond bounds per_second: a billion requests a second is more than
// any gateway serves, so a larger figure is a typing error, and the bound
// keeps the default burst (the rate rounded up) a sane integer.
const maxPerSecond = 1e9

// Config is the plugin's block in the routes file.
type Config struct {
	// PerSecond is the number of tokens added to each bucket per second. A
	// fraction is allowed: 0.5 adds one token every two seconds.
	PerSecond float64 `yaml:"per_second"`
	// Burst is the bucket's size: how many requests a key may send at once
	// after a quiet spell. Left out, it is PerSecond rounded up.
	Burst *int `yaml:"burst"`
	// Key chooses what shares a bucket: remote_ip, route, principal or
	// header:<name>.
	Key string `yaml:"key"`
	// MaxKeys bounds the number of buckets held; the least recently used
	// are dropped beyond it.
	MaxKeys int `yaml:"max_keys"`
	// IPv6Prefix is the prefix length by which IPv6 client addresses are
	// grouped into one key, for keys remote_ip and principal: one IPv6
	// subscriber commonly holds a whole /64.
	IPv6Prefix int `yaml:"ipv6_prefix"`
}

// Factory returns the rate_limit plugin's factory, for the binary's registry.
func Factory() plugins.Factory {
	return plugins.Factory{
		Name:   Name,
		Config: func() any { return &Config{Key: "remote_ip", MaxKeys: 100000, IPv6Prefix: 128} },
		Build:  build,
	}
}

// build validates cfg, reporting every field at fault at once, and returns
// a *RateLimit.
func build(cfg any) (plugins.Handler, error) {
	c, ok := cfg.(*Config)
	if !ok || c == nil {
		return nil, fmt.Errorf("config is %T, want *ratelimit.Config", cfg)
	}
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, &plugins.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch p := c.PerSecond; {
	case math.IsNaN(p) || math.IsInf(p, 0):
		fail("per_second", "must be a finite number, got %v", p)
	case p <= 0:
		fail("per_second", "must be > 0, got %v", p)
	case p > maxPerSecond:
		fail("per_second", "must be at most %g (a billion a second), got %v", float64(maxPerSecond), p)
	}
	burst := math.Ceil(c.PerSecond)
	if c.Burst != nil {
		burst = float64(*c.Burst)
		if *c.Burst < 1 {
			fail("burst", "must be >= 1, got %d", *c.Burst)
		}
	}
	k, err := parseKey(c.Key)
	if err != nil {
		fail("key", "%v", err)
	}
	if c.MaxKeys < 1 {
		fail("max_keys", "must be >= 1, got %d", c.MaxKeys)
	}
	switch {
	case c.IPv6Prefix < 1 || c.IPv6Prefix > 128:
		fail("ipv6_prefix", "must be between 1 and 128, got %d", c.IPv6Prefix)
	case c.IPv6Prefix != 128 && err == nil && k.kind != byAddr && k.kind != byPrincipal:
		fail("ipv6_prefix", "applies only to key remote_ip or principal, not %q", c.Key)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	k.prefix, k.seed = c.IPv6Prefix, maphash.MakeSeed()
	size := c.MaxKeys
	if k.kind == byRoute {
		size = 1 // the route is the one key
	}
	return newRateLimit(k, rate{perSecond: c.PerSecond, burst: burst}, newTable(size), monotonic()), nil
}

// monotonic returns a clock of nanoseconds since the call, read from the
// monotonic clock so that a change of the wall clock neither refills nor
// drains a bucket.
func monotonic() func() int64 {
	start := time.Now()
	return func() int64 { return int64(time.Since(start)) }
}
