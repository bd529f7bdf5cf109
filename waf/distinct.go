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
// set order (Go's map order, drawn anew for every rule), and a rule's
// exclusions (ARGS|!ARGS:foo) shift the indexes too, so when two values
// share a key's bytes (a name that repeats: q=…&q=… in a form, whose
// values Coraza files under one key string, or one cookie name twice in a
// Cookie header; names that are empty, whose bytes have no address, in the
// query and the form alike, which ARGS reads as one) a rule can be handed
// the transformed form of another value with that name, and not read its
// own. A request that repeats a name next to other names slipped past a
// rule that way about one time in eight (TestRepeatedNames logs it).
//
// The rules the gateway writes anew (fused.go) and multiMatch rules skip
// the cache, but chains and a profile's own rules use it. So, before the
// rules of a phase that transform what they read (Coraza's recommended
// rules run first, but read one key each, in a set order), each value whose
// key shares its address with another's, and each value of an empty name,
// gets a key of its own, with the same bytes, and the cache can no longer
// confuse it with another.

// distinctKeysRules are the rules that run the operator first in phases
// 1 to 4, over the collections those phases fill and those read with them
// (ARGS is ARGS_GET and ARGS_POST). Their ids are the last four of the
// gateway's own (directives.go).
func distinctKeysRules() string {
	var b strings.Builder
	for i, p := range []struct {
		phase int
		vars  string
	}{
		{1, "ARGS_GET REQUEST_COOKIES REQUEST_HEADERS"},
		{2, "ARGS_GET ARGS_POST FILES MULTIPART_PART_HEADERS XML"},
		{3, "RESPONSE_HEADERS"},
		{4, "RESPONSE_ARGS"},
	} {
		fmt.Fprintf(&b, "SecRule UNIQUE_ID \"@distinctKeys %s\" \"id:%d,phase:%d,pass,nolog,noauditlog,t:none\"\n",
			p.vars, distinctKeysRuleID+i, p.phase)
	}
	return b.String()
}

const distinctKeysRuleID = 99996

// distinctKeys is the operator: it never matches.
type distinctKeys []func(plugintypes.TransactionVariables) collection.Map

var _ plugintypes.Operator = distinctKeys(nil)

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
	"XML":                    plugintypes.TransactionVariables.XML,
	"RESPONSE_HEADERS":       plugintypes.TransactionVariables.ResponseHeaders,
	"RESPONSE_ARGS":          plugintypes.TransactionVariables.ResponseArgs,
}

func (d distinctKeys) Evaluate(tx plugintypes.TransactionState, _ string) bool {
	seen := map[*byte]bool{}
	for _, f := range d {
		giveOwnKeys(f(tx.Variables()), seen)
	}
	return false
}

// giveOwnKeys files every value of m whose key shares its first byte's
// address with another value's key, in m or in those seen holds (of the
// collections read before it), or is empty without an address of its own,
// again under a copy of the key, and adds the addresses of m's keys to seen.
func giveOwnKeys(m collection.Map, seen map[*byte]bool) {
	var shared []string
	for _, d := range m.FindAll() {
		p := unsafe.StringData(d.Key())
		if seen[p] || p == nil { // an empty key's bytes may have no address
			shared = append(shared, d.Key())
		}
		seen[p] = true
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
			c := ownCopy(keys[i])
			seen[unsafe.StringData(c)] = true
			m.SetIndex(c, i, v)
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
