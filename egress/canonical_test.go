package egress

import (
	"testing"

	"github.com/portcullis-gw/portcullis/routes"
)

// TestRuleHostsAndDestinationsAgree holds routes.CanonicalName, which puts
// rules' hosts in canonical form, and CanonicalHost, which puts the
// destinations asked in it, to one answer on every name either accepts:
// a rule matches a destination only if both read the name alike.
func TestRuleHostsAndDestinationsAgree(t *testing.T) {
	for _, s := range []string{
		"Example.COM.", "bücher.de", "xn--bcher-kva.de", "r3---sn-abc.googlevideo.com", "ab--cd.com",
		"ＥＸＡＭＰＬＥ.com", "exa\u200bmple.com", "faß.de", "σ.com", "ς.com", "localhost", "a.b.c.d.e.example",
		"a_b.com", "xn--a.com", "a.b-.com", "-a.com", "xn--example-", "xn--abc.com", "a..b", "ex ample.com",
		"\u0661\u0662.example", "a\u200db.com", "ＡＰＩ。example。com", "münchen.de", "MÜNCHEN.DE",
	} {
		name, rerr := routes.CanonicalName(s)
		h, herr := CanonicalHost(s)
		switch {
		case rerr == nil && (herr != nil || h.IsIP() || h.Name() != name):
			t.Errorf("%q: a rule reads %q, a destination %q (%v)", s, name, h.Name(), herr)
		case rerr != nil && herr == nil && !h.IsIP():
			t.Errorf("%q: a destination reads %q, but no rule can name it: %v", s, h.Name(), rerr)
		}
	}
}
