package waf

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/collection"
	"github.com/corazawaf/coraza/v3/types"
)

// checkOwnKeys runs giveOwnKeys over m and checks that it kept every key
// with its values in their order, and left no two values a key at one
// address, in m or among those of seen, and no key without an address.
func checkOwnKeys(t *testing.T, m collection.Map, what string, seen map[*byte]bool) {
	t.Helper()
	valuesOf := func(k string) []string {
		var out []string
		if k == "" { // FindString reads every value
			for _, v := range m.Get("") {
				out = append(out, "\x00"+v)
			}
			return out
		}
		for _, d := range m.FindString(k) {
			out = append(out, d.Key()+"\x00"+d.Value())
		}
		return out
	}
	before := m.FindAll()
	want := map[string][]string{}
	for _, d := range before {
		want[d.Key()] = valuesOf(d.Key())
	}
	earlier := maps.Clone(seen)
	giveOwnKeys(m, seen)
	after := m.FindAll()
	if len(after) != len(before) {
		t.Fatalf("%s: %d values before, %d after", what, len(before), len(after))
	}
	mine := map[*byte]string{}
	for _, d := range after {
		p := unsafe.StringData(d.Key())
		if k, ok := mine[p]; ok || earlier[p] || p == nil {
			t.Fatalf("%s: key %q shares an address (with %q in it, or one read before it: %v)", what, d.Key(), k, earlier[p])
		}
		mine[p] = d.Key()
	}
	for k, vs := range want {
		if got := valuesOf(k); !slices.Equal(got, vs) {
			t.Fatalf("%s: key %q holds %q, want %q", what, k, got, vs)
		}
	}
}

// bareWAF is an engine that reads request bodies, XML by its Content-Type
// and any other as a form, and has no other rule.
var bareWAF = sync.OnceValues(func() (coraza.WAF, error) {
	return coraza.NewWAF(coraza.NewWAFConfig().WithDirectives(`SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@streq text/xml" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"`))
})

// ownKeysTx is a transaction that has read query, the Cookie headers and
// a body (XML when it starts with '<', else a form), with header twice
// under one key string, and no rule.
func ownKeysTx(t testing.TB, query string, cookies []string, body string) types.Transaction {
	w, err := bareWAF()
	if err != nil {
		t.Fatal(err)
	}
	tx := w.NewTransaction()
	tx.ProcessURI("/?"+query, "POST", "HTTP/1.1")
	key := "X-Data"
	tx.AddRequestHeader(key, "1")
	tx.AddRequestHeader("x-data", "2")
	tx.AddRequestHeader(key, "3")
	for _, c := range cookies {
		tx.AddRequestHeader("Cookie", c)
	}
	ctype := "application/x-www-form-urlencoded"
	if strings.HasPrefix(body, "<") {
		ctype = "text/xml"
	}
	tx.AddRequestHeader("Content-Type", ctype)
	tx.ProcessRequestHeaders()
	if _, _, err := tx.WriteRequestBody([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ProcessRequestBody(); err != nil {
		t.Fatal(err)
	}
	return tx
}

// checkAllOwnKeys runs giveOwnKeys as the rule of each phase does, over
// the collections it names, in order.
func checkAllOwnKeys(t *testing.T, tx types.Transaction) {
	t.Helper()
	v := state(tx).Variables()
	for _, phase := range [][]string{
		{"ARGS_GET", "REQUEST_COOKIES", "REQUEST_HEADERS"},
		{"ARGS_GET", "ARGS_POST", "FILES", "MULTIPART_PART_HEADERS", "XML"},
	} {
		seen := map[*byte]bool{}
		for _, name := range phase {
			checkOwnKeys(t, keyedCollections[name](v), name, seen)
		}
	}
}

func TestGiveOwnKeys(t *testing.T) {
	for _, c := range []struct {
		name    string
		query   string
		cookies []string
		body    string
	}{
		{"repeated", "a=1&a=2", []string{"a=1; a=2"}, "a=1&a=2"},
		{"empty names", "=1&=2&=3", []string{"=1; =2", "=3"}, "=1&=2"},
		{"one empty name in the query and one in the form", "foo=1&=benign", nil, "=attack"},
		{"case variants", "A=1&a=2&b=3&a=4", []string{"A=1; a=2; b=3; a=4"}, "A=1&a=2&b=3&a=4"},
		{"escaped and bare names", "%61=1&a=2&a", []string{"a=1", "a=2"}, "%61=1&a=2&a&a"},
		{"names without values", "a&a&a&&&b", []string{";;a;a;"}, "a&&a"},
		{"300 repeats", strings.Repeat("k=v&", 300), []string{strings.Repeat("k=v; ", 300)}, strings.Repeat("k=v&x=y&", 200)},
		{"XML", "", nil, "<r><a>1</a><a>2</a><b x='1' y='2'>3</b><a/></r>"},
		{"nothing", "", nil, ""},
		{"no repeat", "one=1", []string{"one=1"}, "one=1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx := ownKeysTx(t, c.query, c.cookies, c.body)
			defer finish(tx)
			checkAllOwnKeys(t, tx)
		})
	}
}

// FuzzGiveOwnKeys holds giveOwnKeys to its promise on whatever a query,
// a Cookie header and a form body make of Coraza's collections.
func FuzzGiveOwnKeys(f *testing.F) {
	f.Add("a=1&a=2&=3&=4", "a=1; a=2; =x", "A=1&a=2")
	f.Add("%00=1&%00=2", "\x01=1; =2", "a")
	f.Add("", "", "<r><a>1</a><a>2</a><b x='1'/></r>")
	f.Fuzz(func(t *testing.T, query, cookie, body string) {
		tx := ownKeysTx(t, query, []string{cookie, cookie}, body)
		defer finish(tx)
		checkAllOwnKeys(t, tx)
	})
}

// TestEmptyNamesAcrossQueryAndForm sends an attack under an empty name in
// a form, beside a harmless value under an empty name in the query, to a
// rule that reads ARGS but one argument, after a rule with the same
// transformations that reads them all: the two values' keys have no
// address, and the exclusion shifts their places, so without keys of
// their own the second rule can be handed the harmless value's
// transformed form. With distinctKeysRules it must match every time.
func TestEmptyNamesAcrossQueryAndForm(t *testing.T) {
	registerOperators()
	rules := `SecRuleEngine On
SecRequestBodyAccess On
SecRule ARGS "@rx never-there" "id:1,phase:2,pass,nolog,t:none,t:lowercase"
SecRule ARGS|!ARGS:foo "@rx attack" "id:2,phase:2,deny,status:403,log,t:none,t:lowercase"
`
	missed := func(directives string) int {
		w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives(directives))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for range 100 {
			tx := w.NewTransaction()
			tx.ProcessURI("/?foo=1&=benign", "POST", "HTTP/1.1")
			tx.AddRequestHeader("Content-Type", "application/x-www-form-urlencoded")
			tx.ProcessRequestHeaders()
			if _, _, err := tx.WriteRequestBody([]byte("=ATTACK")); err != nil {
				t.Fatal(err)
			}
			if it, _ := tx.ProcessRequestBody(); it == nil {
				n++
			}
			finish(tx)
		}
		return n
	}
	if n := missed(distinctKeysRules() + rules); n != 0 {
		t.Errorf("with keys of their own, the attack passed %d of 100 times", n)
	}
	n := missed(rules)
	t.Logf("without, it passed %d of 100 times", n)
	if n == 0 {
		t.Errorf("without keys of their own, the attack never passed: has Coraza stopped confusing values in its transformation cache?")
	}
}
