package egress

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestRevokeOnReload: a tunnel ends when the policy in force stops
// allowing it, whether the reload came before its watch began (it opened
// under the old rules) or after; TestEgressReloadUnderOpenTunnel in the
// gateway shows a tunnel the new rules still allow going on.
func TestRevokeOnReload(t *testing.T) {
	allowA := loadPolicy(t, `
egress: { rules: [{ name: a, to: { hosts: [a.example.com], ports: [7000] } }] }
`)
	allowAB := loadPolicy(t, `
egress: { rules: [{ name: ab, to: { hosts: [a.example.com, b.example.com], ports: [7000] } }] }
`)
	none := loadPolicy(t, "")
	a := Destination{Host: "a.example.com", Port: 7000, Tunnel: true}
	public := netip.MustParseAddrPort("93.184.215.14:7000")
	watch := func(f *Policies, opened *Policy) context.Context {
		return watchAt(t, f, opened, a, public)
	}
	revoked := func(ctx context.Context) bool {
		select {
		case <-ctx.Done():
			return errors.Is(context.Cause(ctx), errRevoked)
		case <-time.After(10 * time.Second):
			return false
		}
	}

	f := NewPolicies(none)
	if ctx := watch(f, allowA); !revoked(ctx) {
		t.Error("opened under rules a reload already replaced: not revoked")
	}

	f = NewPolicies(allowA)
	ctx := watch(f, allowA)
	f.Store(allowAB)
	f.Store(none)
	if !revoked(ctx) {
		t.Error("rule removed by a later reload: not revoked")
	}

	withRange := loadPolicy(t, `
egress: { rules: [{ name: db, to: { hosts: [db.example], cidrs: [10.20.0.0/16], ports: [5432] } }] }
`)
	withoutRange := loadPolicy(t, `
egress: { rules: [{ name: db, to: { hosts: [db.example], ports: [5432] } }] }
`)
	db := Destination{Host: "db.example", Port: 5432, Tunnel: true}
	f = NewPolicies(withRange)
	ctx = watchAt(t, f, withRange, db, netip.MustParseAddrPort("10.20.0.5:5432"))
	f.Store(withoutRange)
	if !revoked(ctx) {
		t.Error("range that let the guard dial an internal address removed: not revoked")
	}

}

// watchAt watches a tunnel of d dialled at addr that opened under opened.
func watchAt(t *testing.T, f *Policies, opened *Policy, d Destination, addr netip.AddrPort) context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := revokeOnReload(f, opened, Caller{}, d, addr, cancel)
	t.Cleanup(func() { stop(); cancel(nil) })
	return ctx
}
