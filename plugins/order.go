package plugins

import "slices"

// Order is the fixed order in which security plugins run, whatever order the
// routes file lists them in: a token is checked before the policy that may
// read its claims, a policy before rate limits (so denied callers spend no
// tokens), and rate limits before the costly WAF. Plugins not named here run
// after these, in the order the routes file gives.
var Order = []string{"jwt", "authz", "rate_limit", "waf", "headers"}

// Rank returns the position of the named plugin in the chain: its index in
// Order, or len(Order) for a plugin that Order does not name.
func Rank(name string) int {
	if i := slices.Index(Order, name); i >= 0 {
		return i
	}
	return len(Order)
}
