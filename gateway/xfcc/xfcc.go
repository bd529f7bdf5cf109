// Package xfcc writes and reads the x-forwarded-client-cert header in
// Envoy's format: elements separated by ',', one per proxy that added one;
// in each, key=value pairs separated by ';'; a value holding ',', ';', '='
// or '"' is double-quoted, with '"' (and '\', so that the quoting can be
// undone) escaped by a backslash.
package xfcc

import (
	"errors"
	"fmt"
	"strings"
)

// Header is the header's name as Go's textproto writes it.
const Header = "X-Forwarded-Client-Cert"

// Pair is one key=value of an element. Keys are case-insensitive.
type Pair struct {
	Key, Value string
}

// Element is what one proxy added: By, Hash, Subject, URI, DNS and the like.
type Element []Pair

// Get returns the first value under key, compared without case.
func (e Element) Get(key string) (string, bool) {
	for _, p := range e {
		if strings.EqualFold(p.Key, key) {
			return p.Value, true
		}
	}
	return "", false
}

// alwaysQuoted are the keys whose values Envoy writes quoted whatever they
// hold.
var alwaysQuoted = []string{"Subject", "Cert", "Chain"}

// Append appends e to dst as one element. A pair whose key is not a token
// or whose value holds a control character, which a header cannot carry,
// is left out; it returns how many were.
func Append(dst []byte, e Element) ([]byte, int) {
	skipped, first := 0, true
	for _, p := range e {
		if !isKey(p.Key) || hasControl(p.Value) {
			skipped++
			continue
		}
		if !first {
			dst = append(dst, ';')
		}
		first = false
		dst = append(dst, p.Key...)
		dst = append(dst, '=')
		if !needsQuotes(p.Key, p.Value) {
			dst = append(dst, p.Value...)
			continue
		}
		dst = append(dst, '"')
		for i := 0; i < len(p.Value); i++ {
			if c := p.Value[i]; c == '"' || c == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, p.Value[i])
		}
		dst = append(dst, '"')
	}
	return dst, skipped
}

func needsQuotes(key, v string) bool {
	for _, k := range alwaysQuoted {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return v == "" || strings.ContainsAny(v, ",;=\"\\ \t")
}

// Parse reads a header value into its elements. Spaces and tabs around
// elements, pairs and values are allowed, as when two header lines are
// joined with ", "; anything else malformed is an error, so that a value appended after
// it can never be read as part of it.
func Parse(s string) ([]Element, error) {
	var out []Element
	var cur Element
	i := 0
	for {
		i = skipSpace(s, i)
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ';' && s[i] != ',' {
			i++
		}
		key := strings.TrimRight(s[start:i], " \t")
		if !isKey(key) {
			return nil, fmt.Errorf("offset %d: key %q is not a token", start, key)
		}
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("offset %d: key %q has no '='", start, key)
		}
		// Spaces around a value are not part of it, as in Envoy's
		// parser, which strips them before it looks for quotes.
		i = skipSpace(s, i+1)
		var val string
		var err error
		if i < len(s) && s[i] == '"' {
			val, i, err = quoted(s, i)
		} else {
			val, i, err = bare(s, i)
		}
		if err != nil {
			return nil, err
		}
		cur = append(cur, Pair{Key: key, Value: val})
		i = skipSpace(s, i)
		switch {
		case i == len(s):
			return append(out, cur), nil
		case s[i] == ';':
			i++
		case s[i] == ',':
			out = append(out, cur)
			cur = nil
			i++
		default:
			return nil, fmt.Errorf("offset %d: unexpected %q after a value", i, s[i])
		}
	}
}

// quoted reads a quoted value starting at s[i] == '"'.
func quoted(s string, i int) (string, int, error) {
	var b strings.Builder
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s):
			i++
			c = s[i]
		case c == '\\':
			return "", 0, errUnterminated
		}
		if isControl(c) {
			return "", 0, fmt.Errorf("offset %d: control character in a value", i)
		}
		b.WriteByte(c)
	}
	return "", 0, errUnterminated
}

var errUnterminated = errors.New("unterminated quoted value")

// bare reads an unquoted value, which ends at ';', ',' or the end.
func bare(s string, i int) (string, int, error) {
	start := i
	for ; i < len(s) && s[i] != ';' && s[i] != ','; i++ {
		if c := s[i]; c == '"' || c == '=' || c == '\\' || isControl(c) {
			return "", 0, fmt.Errorf("offset %d: %q in an unquoted value", i, c)
		}
	}
	v := strings.TrimRight(s[start:i], " \t")
	if v == "" {
		return "", 0, fmt.Errorf("offset %d: empty value", start)
	}
	return v, i, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isKey reports whether k is a non-empty run of letters, digits, '-' and '_'.
func isKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isControl(c byte) bool { return c < 0x20 || c == 0x7f }

func hasControl(v string) bool {
	for i := 0; i < len(v); i++ {
		if isControl(v[i]) {
			return true
		}
	}
	return false
}
