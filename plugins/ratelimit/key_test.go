package ratelimit

import (
	"net/netip"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// req builds a request from an address, a principal ("" for none) and
// headers given as name, value pairs.
func req(ip, principal string, header ...string) *plugins.Request {
	r := plugintest.Get(nil)
	if ip != "" {
		r.Client = netip.MustParseAddr(ip)
	}
	if principal != "" {
		r.Identity = &plugins.Identity{SPIFFEID: principal}
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header().Add(header[i], header[i+1])
	}
	return r
}

// TestKeys sends a, which spends the one token of its bucket, then b: b is
// refused exactly when it shares a's bucket.
func TestKeys(t *testing.T) {
	const alice, bob = "spiffe://cluster.local/ns/a/sa/alice", "spiffe://cluster.local/ns/b/sa/bob"
	emptyID := req("192.0.2.1", "")
	emptyID.Identity = &plugins.Identity{}
	tests := []struct {
		name   string
		key    string
		prefix int
		a, b   *plugins.Request
		shared bool
	}{
		{"remote_ip other address", "remote_ip", 0, req("192.0.2.1", ""), req("192.0.2.2", ""), false},
		{"remote_ip same address", "remote_ip", 0, req("192.0.2.1", ""), req("192.0.2.1", "", "X-Api-Key", "b"), true},
		{"remote_ip mapped IPv4 is IPv4", "remote_ip", 0, req("192.0.2.1", ""), req("::ffff:192.0.2.1", ""), true},
		{"remote_ip IPv6 whole", "remote_ip", 0, req("2001:db8::1", ""), req("2001:db8::2", ""), false},
		{"remote_ip IPv6 same /64", "remote_ip", 64, req("2001:db8::1", ""), req("2001:db8::2", ""), true},
		{"remote_ip IPv6 other /64", "remote_ip", 64, req("2001:db8::1", ""), req("2001:db8:0:1::1", ""), false},
		{"remote_ip IPv6 zone dropped with prefix", "remote_ip", 64, req("fe80::1%eth0", ""), req("fe80::2", ""), true},
		{"remote_ip prefix spares IPv4", "remote_ip", 64, req("192.0.2.1", ""), req("192.0.2.2", ""), false},
		{"remote_ip no address shares", "remote_ip", 0, req("", ""), req("", ""), true},
		{"remote_ip no address apart from an address", "remote_ip", 0, req("", ""), req("0.0.0.0", ""), false},
		{"header other value", "header:x-api-key", 0, req("192.0.2.1", "", "X-Api-Key", "a"), req("192.0.2.1", "", "X-Api-Key", "b"), false},
		{"header same value other address", "header:x-api-key", 0, req("192.0.2.1", "", "X-Api-Key", "a"), req("192.0.2.2", "", "X-Api-Key", "a"), true},
		{"header name case", "header:X-API-KEY", 0, req("192.0.2.1", "", "X-Api-Key", "a"), req("192.0.2.2", "", "x-api-key", "a"), true},
		{"header missing shares", "header:x-api-key", 0, req("192.0.2.1", ""), req("192.0.2.2", ""), true},
		{"header empty is missing", "header:x-api-key", 0, req("192.0.2.1", ""), req("192.0.2.2", "", "X-Api-Key", ""), true},
		{"header dash is missing", "header:x-api-key", 0, req("192.0.2.1", ""), req("192.0.2.2", "", "X-Api-Key", "-"), true},
		{"header missing apart from a value", "header:x-api-key", 0, req("192.0.2.1", ""), req("192.0.2.1", "", "X-Api-Key", "a"), false},
		{"header first value decides", "header:x-api-key", 0, req("", "", "X-Api-Key", "a"), req("", "", "X-Api-Key", "a", "X-Api-Key", "b"), true},
		{"header value case matters", "header:x-api-key", 0, req("", "", "X-Api-Key", "a"), req("", "", "X-Api-Key", "A"), false},
		{"header without an HTTP request", "header:x-api-key", 0, &plugins.Request{}, req("", ""), true},
		{"route shares everything", "route", 0, req("192.0.2.1", alice, "X-Api-Key", "a"), req("2001:db8::2", bob), true},
		{"principal other identity", "principal", 0, req("192.0.2.1", alice), req("192.0.2.1", bob), false},
		{"principal same identity other address", "principal", 0, req("192.0.2.1", alice), req("192.0.2.2", alice), true},
		{"principal none by address", "principal", 0, req("192.0.2.1", ""), req("192.0.2.2", ""), false},
		{"principal none same address", "principal", 0, req("192.0.2.1", ""), req("192.0.2.1", ""), true},
		{"principal empty is none", "principal", 0, req("192.0.2.1", ""), emptyID, true},
		{"principal apart from its address", "principal", 0, req("192.0.2.1", alice), req("192.0.2.1", ""), false},
		{"principal none IPv6 /64", "principal", 64, req("2001:db8::1", ""), req("2001:db8::2", ""), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := limiter(t, Config{PerSecond: 1, Burst: ptr(1), Key: tt.key, IPv6Prefix: tt.prefix})
			if got := wait(t, h, tt.a); got != 0 {
				t.Fatalf("got first request refused (wait %d), want admitted", got)
			}
			if got, want := wait(t, h, tt.b) != 0, tt.shared; got != want {
				t.Errorf("got second request refused %v, want %v", got, want)
			}
		})
	}
}
