package waf_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/waf"
)

// TestRepeatedNames sends attacks under a name that repeats next to other
// names (a form field, a cookie, an empty query name, a header), many
// times, and checks that every rule that matches the attack sent alone
// matches it every time: the gateway gives each value a key of its own
// before the rules read them (distinct.go). A profile that turns that off
// shows why: Coraza's transformation cache then hands some rules another
// value's transformed form now and then, and they miss the attack. That
// half of the test fails once Coraza no longer does so, and distinct.go
// can go.
func TestRepeatedNames(t *testing.T) {
	// A profile that updates a rule's transformations reads the CRS as
	// shipped, whose rules (but multiMatch ones) all use the cache
	// (fused.go); the default profile's chains do.
	section := `  profiles:
    as-shipped: { rules: ['SecRuleUpdateActionById 980170 "t:none"'] }
    shared-keys:
      rules: ['SecRuleUpdateActionById 980170 "t:none"', 'SecRuleRemoveById 99996-99999']
`
	src := routesFile(section, "shared-keys")
	shared(t, src)
	sec := sectionOf(t, src)
	explainer := func(name string) *waf.Handler {
		h, err := plugin.Explainer(sec, name)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	engines := []*waf.Handler{explainer("default"), explainer("as-shipped")}
	sharedKeys := explainer("shared-keys")
	ids := func(h *waf.Handler, raw string) []int {
		v, err := h.Explain(plugintest.Parse(t, raw))
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		var out []int
		for _, r := range v.Rules {
			if r.ID < 949000 { // not the blocking and reporting rules
				out = append(out, r.ID)
			}
		}
		return out
	}
	const agent = "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\nAccept: */*\r\n"
	form := func(body string) string {
		return fmt.Sprintf("POST /submit HTTP/1.1\r\nHost: example.com\r\n%sContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", agent, len(body), body)
	}
	get := func(target, header string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: example.com\r\n" + agent + header + "\r\n"
	}
	payloads := []string{
		"<script>alert(1)</script>",
		"' or 1=1--",
		"1 union select table_name from information_schema.tables",
		"<?php system('id'); ?>",
		"file:///etc/passwd",
	}
	type placement struct{ name, alone, repeated string }
	var cases []placement
	for _, p := range payloads {
		e := url.QueryEscape(p)
		cases = append(cases,
			placement{"form " + p, form("q=" + e), form("a=1&b=2&q=hello&q=" + e + "&c=3&d=4")},
			placement{"cookie " + p, get("/", "Cookie: q="+e+"\r\n"), get("/", "Cookie: a=1; q=hello; b=2; q="+e+"; c=3\r\n")},
			placement{"empty query name " + p, get("/?="+e, ""), get("/?a=1&=hello&b=2&="+e+"&c=3", "")},
			placement{"Referer " + p, get("/", "Referer: "+p+"\r\n"), get("/", "Referer: https://example.com/\r\nX-A: 1\r\nReferer: "+p+"\r\nX-B: 2\r\n")},
		)
	}
	rounds := 40
	if testing.Short() || raceEnabled {
		rounds = 10
	}
	missedWithSharedKeys, checked, tries := 0, 0, 0
	missedIn := map[string]int{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := ids(engines[0], c.alone)
			if len(want) == 0 {
				t.Skip("no rule matches it alone")
			}
			checked++
			for range rounds {
				for i, h := range engines {
					got := ids(h, c.repeated)
					for _, id := range want {
						if !slices.Contains(got, id) {
							t.Fatalf("profile %d: rule %d matches it alone, not under a repeated name (got %v)", i, id, got)
						}
					}
				}
				got := ids(sharedKeys, c.repeated)
				for _, id := range want {
					tries++
					if !slices.Contains(got, id) {
						missedWithSharedKeys++
						missedIn[strings.Fields(c.name)[0]]++
					}
				}
			}
		})
	}
	t.Logf("%d placements × %d rounds; with keys shared, the rules missed the attack %d times of %d (%.0f%%) %v",
		checked, rounds, missedWithSharedKeys, tries, 100*float64(missedWithSharedKeys)/float64(max(tries, 1)), missedIn)
	if checked < len(cases)*3/4 {
		t.Errorf("only %d of %d placements match alone", checked, len(cases))
	}
	if missedWithSharedKeys == 0 && !testing.Short() {
		t.Errorf("with keys shared, no rule missed an attack: has Coraza stopped confusing values under one key in its transformation cache? Then distinct.go can go")
	}
}
