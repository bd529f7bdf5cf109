package waf

import "unicode/utf8"

// A plain value holds only ASCII letters and digits, the space, and
// . _ @ - (names, numbers, e-mail addresses, SKUs, prices: most of what an
// API's JSON or a form carries). The transformations in plainClosed turn a
// plain value into a plain value, and an operator that missesPlain cannot
// match one: every string its pattern needs (need, in rxneed.go), or every
// phrase, holds a byte that is not plain (< ' " ( ; | and so on). So a
// rule written anew whose transformations are all in plainClosed and whose
// operator missesPlain does not match a plain value, and skips its
// transformations and its operator for it. TestPlainSkipSound and
// FuzzPlainSkipSound hold every such rule of the CRS to that on plain
// values; TestPlainClosed and FuzzPlainClosed hold the transformations.

var plainByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range " ._@-" {
		t[c] = true
	}
	return t
}()

// plain reports whether every byte of v is plain.
func plain(v string) bool {
	for i := 0; i < len(v); i++ {
		if !plainByte[v[i]] {
			return false
		}
	}
	return true
}

// plainClosed are the transformations, by the names transform.Get takes,
// that turn a plain value into a plain one: they decode only what begins
// with a byte that is not plain (% + & \ /*), change the case of letters,
// or remove or collapse bytes. Decodings that make any bytes of letters and
// digits (base64Decode, hexDecode, sqlHexDecode) are not among them.
var plainClosed = map[string]bool{
	"cmdline": true, "compresswhitespace": true, "cssdecode": true, "escapeseqdecode": true,
	"htmlentitydecode": true, "jsdecode": true, "lowercase": true, "normalisepath": true,
	"normalizepath": true, "normalisepathwin": true, "normalizepathwin": true,
	"removecommentschar": true, "removenulls": true, "removewhitespace": true,
	"replacecomments": true, "urldecode": true, "urldecodeuni": true, "utf8tounicode": true,
}

// missesPlain is implemented by the operators that can tell, when they are
// built, whether they can match a plain value.
type plainMisser interface{ missesPlain() bool }

// plainFree reports whether each of strs holds a byte that is not plain,
// so that no plain value holds any of them. Compared without regard to
// case (fold), a string with a byte beyond ASCII might match a plain
// letter (Unicode folds the Kelvin sign with k, the long s with s): such a
// set is not plain free.
func plainFree(strs []string, fold bool) bool {
	if len(strs) == 0 {
		return false
	}
	for _, s := range strs {
		if plain(s) {
			return false
		}
		if fold {
			for i := 0; i < len(s); i++ {
				if s[i] >= utf8.RuneSelf {
					return false
				}
			}
		}
	}
	return true
}

func (o *rx) missesPlain() bool { return o.need != nil && o.need.plainFree }

func (o *pm) missesPlain() bool { return o.plainFree }
