package egress

import (
	"context"
	"errors"
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
	watch := func(f *Policies, opened *Policy) context.Context {
		ctx, cancel := context.WithCancelCause(context.Background())
		stop := revokeOnReload(f, opened, Caller{}, a, cancel)
		t.Cleanup(func() { stop(); cancel(nil) })
		return ctx
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

}
