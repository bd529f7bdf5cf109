package waf

import (
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/collection"
	"github.com/corazawaf/coraza/v3/types"
)

// checkOwnKeys runs giveOwnKeys over m and checks that it kept every key
// with its values in their order, and left no two values a key at one
// address.
func checkOwnKeys(t *testing.T, m collection.Map, what string) {
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
	giveOwnKeys(m)
	after := m.FindAll()
	if len(after) != len(before) {
		t.Fatalf("%s: %d values before, %d after", what, len(before), len(after))
	}
	seen := map[*byte]string{}
	for _, d := range after {
		if k, ok := seen[unsafe.StringData(d.Key())]; ok {
			t.Fatalf("%s: keys %q and %q share an address", what, k, d.Key())
		}
		seen[unsafe.StringData(d.Key())] = d.Key()
	}
	for k, vs := range want {
		if got := valuesOf(k); !slices.Equal(got, vs) {
			t.Fatalf("%s: key %q holds %q, want %q", what, k, got, vs)
		}
	}
}

// ownKeysTx is a transaction that has read query, the Cookie headers and
// a form body, with header twice under one key string, and no rule.
func ownKeysTx(t testing.TB, query string, cookies []string, body string) types.Transaction {
	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives("SecRuleEngine On\nSecRequestBodyAccess On"))
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
	tx.AddRequestHeader("Content-Type", "application/x-www-form-urlencoded")
	tx.ProcessRequestHeaders()
	if _, _, err := tx.WriteRequestBody([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ProcessRequestBody(); err != nil {
		t.Fatal(err)
	}
	return tx
}

func checkAllOwnKeys(t *testing.T, tx types.Transaction) {
	t.Helper()
	v := state(tx).Variables()
	for name, f := range keyedCollections {
		checkOwnKeys(t, f(v), name)
	}
}

func TestGiveOwnKeys(t *testing.T) {
	for _, c := range []struct {
		query   string
		cookies []string
		body    string
	}{
		{"a=1&a=2", []string{"a=1; a=2"}, "a=1&a=2"},
		{"=1&=2&=3", []string{"=1; =2", "=3"}, "=1&=2"},
		{"A=1&a=2&b=3&a=4", []string{"A=1; a=2; b=3; a=4"}, "A=1&a=2&b=3&a=4"},
		{"%61=1&a=2&a", []string{"a=1", "a=2"}, "%61=1&a=2&a&a"},
		{"a&a&a&&&b", []string{";;a;a;"}, "a&&a"},
		{strings.Repeat("k=v&", 300), []string{strings.Repeat("k=v; ", 300)}, strings.Repeat("k=v&x=y&", 200)},
		{"", nil, ""},
		{"one=1", []string{"one=1"}, "one=1"},
	} {
		tx := ownKeysTx(t, c.query, c.cookies, c.body)
		checkAllOwnKeys(t, tx)
		finish(tx)
	}
}

// FuzzGiveOwnKeys holds giveOwnKeys to its promise on whatever a query,
// a Cookie header and a form body make of Coraza's collections.
func FuzzGiveOwnKeys(f *testing.F) {
	f.Add("a=1&a=2&=3&=4", "a=1; a=2; =x", "A=1&a=2")
	f.Add("%00=1&%00=2", "\x01=1; =2", "a")
	f.Fuzz(func(t *testing.T, query, cookie, body string) {
		tx := ownKeysTx(t, query, []string{cookie, cookie}, body)
		defer finish(tx)
		checkAllOwnKeys(t, tx)
	})
}
