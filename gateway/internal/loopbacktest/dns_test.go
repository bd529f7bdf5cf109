package loopbacktest

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestDNSAnswers resolves through the server as the Go resolver does: set
// names to their addresses, unknown names to NXDOMAIN (not found), failed
// ones to SERVFAIL (a temporary error, not "not found").
func TestDNSAnswers(t *testing.T) {
	d := NewDNS(t)
	d.Set("ok.invalid", "127.0.0.7", "::1")
	d.Fail("broken.invalid")
	d.Set("gone.invalid", "127.0.0.8")
	d.Remove("gone.invalid")
	r := d.Resolver()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ips, err := r.LookupNetIP(ctx, "ip", "OK.invalid")
	slices.SortFunc(ips, netip.Addr.Compare)
	if want := []netip.Addr{netip.MustParseAddr("127.0.0.7"), netip.MustParseAddr("::1")}; err != nil || !slices.Equal(ips, want) {
		t.Errorf("ok.invalid: got %v, %v, want %v", ips, err, want)
	}
	for _, tt := range []struct {
		name     string
		notFound bool
	}{{"gone.invalid", true}, {"never.invalid", true}, {"broken.invalid", false}} {
		_, err := r.LookupNetIP(ctx, "ip", tt.name)
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || dnsErr.IsNotFound != tt.notFound {
			t.Errorf("%s: got %v, want a DNS error with IsNotFound %v", tt.name, err, tt.notFound)
		}
	}
	if d.Queries() == 0 {
		t.Error("got no queries at the server")
	}
}
