package waf

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/corazawaf/coraza/v3/collection"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// Coraza v3.8.1 caches a rule's transformations of a value under the
// address of the value's key, the value's index in what the rule read,
// the variable and the transformations. A collection's values come in no
// set order (Go's map order, drawn anew for every rule), so when two
// values share a key's bytes (a name that repeats: two Cookie headers,
// or q=…&q=… in a form, whose values Coraza files under one key string;
// or names that are empty) a rule can be handed the transformed form of
// another value with that name, and not read its own. A request that
// repeats a name next to other names slipped past a rule that way about
// one time in five (TestRepeatedNames).
//
// The rules the gateway writes anew (fused.go) skip the cache, but
// chains, multiMatch rules and a profile's own rules use it. So, before
// the first rule of a phase reads them, each value of a name that repeats
// gets a key of its own, with the same bytes, and the cache can no longer
// confuse it with another.

// distinctKeysRules are the rules that run the operator first in phases
// 1, 2 and 3, over the collections those phases fill. Their ids are the
// last three of the gateway's own (directives.go).
func distinctKeysRules() string {
	var b strings.Builder
	for i, p := range []struct {
		phase int
		vars  string
	}{
		{1, "ARGS_GET REQUEST_COOKIES REQUEST_HEADERS"},
		{2, "ARGS_POST FILES MULTIPART_PART_HEADERS"},
		{3, "RESPONSE_HEADERS"},
	} {
		fmt.Fprintf(&b, "SecRule UNIQUE_ID \"@distinctKeys %s\" \"id:%d,phase:%d,pass,nolog,noauditlog,t:none\"\n",
			p.vars, distinctKeysRuleID+i, p.phase)
	}
	return b.String()
}

const distinctKeysRuleID = 99997

// distinctKeys is the operator: it never matches.
type distinctKeys []func(plugintypes.TransactionVariables) collection.Map

func newDistinctKeys(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	var d distinctKeys
	for _, name := range strings.Fields(o.Arguments) {
		f, ok := keyedCollections[name]
		if !ok {
			return nil, fmt.Errorf("@distinctKeys: no collection %q", name)
		}
		d = append(d, f)
	}
	return d, nil
}

var keyedCollections = map[string]func(plugintypes.TransactionVariables) collection.Map{
	"ARGS_GET":               plugintypes.TransactionVariables.ArgsGet,
	"ARGS_POST":              plugintypes.TransactionVariables.ArgsPost,
	"REQUEST_COOKIES":        plugintypes.TransactionVariables.RequestCookies,
	"REQUEST_HEADERS":        plugintypes.TransactionVariables.RequestHeaders,
	"FILES":                  plugintypes.TransactionVariables.Files,
	"MULTIPART_PART_HEADERS": plugintypes.TransactionVariables.MultipartPartHeaders,
	"RESPONSE_HEADERS":       plugintypes.TransactionVariables.ResponseHeaders,
}

func (d distinctKeys) Evaluate(tx plugintypes.TransactionState, _ string) bool {
	for _, f := range d {
		giveOwnKeys(f(tx.Variables()))
	}
	return false
}

// giveOwnKeys files every value of m whose key shares its first byte's
// address with another value's key again, under a copy of the key.
func giveOwnKeys(m collection.Map) {
	all := m.FindAll()
	if len(all) < 2 {
		return
	}
	seen := make(map[*byte]struct{}, len(all))
	var shared []string
	for _, d := range all {
		p := unsafe.StringData(d.Key())
		if _, ok := seen[p]; ok {
			shared = append(shared, d.Key())
		}
		seen[p] = struct{}{}
	}
	done := map[string]bool{}
	for _, k := range shared {
		if done[k] {
			continue
		}
		done[k] = true
		// Get and FindString read the values filed under k (in a map
		// whose keys ignore case, under every spelling of k), in their
		// order; FindString reads every value when k is empty.
		values := m.Get(k)
		keys := make([]string, len(values))
		if k != "" {
			for i, d := range m.FindString(k) {
				keys[i] = d.Key()
			}
		}
		for i, v := range values {
			m.SetIndex(ownCopy(keys[i]), i, v)
		}
	}
}

// ownCopy returns s in memory of its own, even when s is empty (an empty
// string's bytes have no address of their own).
func ownCopy(s string) string {
	b := make([]byte, max(len(s), 1))
	copy(b, s)
	return unsafe.String(&b[0], len(s))
}
