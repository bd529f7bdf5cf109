package waf

import (
	"maps"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"
)

// literals tells whether a value holds one of a set of strings, in one
// pass over the value: at each byte, a table says whether a string of
// one byte is there or one of more may start there, by its first two
// bytes, and only then are those strings compared.
type literals struct {
	fold bool
	// only is the set's one string, when it has one and is exact: found
	// by strings.Contains.
	only string
	// shortest is the length of the shortest string: a shorter value
	// holds none.
	shortest int
	// single marks the strings of one byte; pairs, indexed by pairKey,
	// the first two bytes of the others, which byPair lists in the order
	// of their keys: the strings of the nth key set are byPair[n], and
	// rank[w] is the number of keys set before word w of pairs.
	single [256]bool
	pairs  [pairBits / 64]uint64
	rank   [pairBits / 64]uint16
	byPair [][]string
	// plainFree says that no plain value holds one of the strings
	// (plain.go).
	plainFree bool
}

const pairBits = 4096

func pairKey(a, b byte) uint16 { return (uint16(a)<<4 ^ uint16(b)) % pairBits }

// newLiterals returns the test for s, or nil when s tests nothing.
func newLiterals(s litSet) *literals {
	if !useful(s) {
		return nil
	}
	strs := slices.Clone(s.strs)
	slices.Sort(strs)
	strs = slices.Compact(strs)
	l := &literals{fold: s.fold, shortest: shortest(s), plainFree: plainFree(strs, s.fold)}
	if len(strs) == 1 && !s.fold {
		l.only = strs[0]
		return l
	}
	byKey := map[uint16][]string{}
	for _, str := range strs {
		if len(str) == 1 {
			l.single[str[0]] = true
			continue
		}
		k := pairKey(str[0], str[1])
		l.pairs[k/64] |= 1 << (k % 64)
		byKey[k] = append(byKey[k], str)
	}
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		l.byPair = append(l.byPair, byKey[k])
	}
	for w := 1; w < len(l.pairs); w++ {
		l.rank[w] = l.rank[w-1] + uint16(bits.OnesCount64(l.pairs[w-1]))
	}
	return l
}

// in reports whether v may hold one of the strings: always for a value
// beyond ASCII when the strings are compared without regard to case,
// since Unicode's case folding pairs letters beyond ASCII with k and s.
func (l *literals) in(v string) bool {
	if len(v) < l.shortest {
		return false
	}
	if l.only != "" {
		return strings.Contains(v, l.only)
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		if l.fold {
			if b >= utf8.RuneSelf {
				return true
			}
			b = lower(b)
		}
		if l.single[b] {
			return true
		}
		if i+1 == len(v) {
			break
		}
		c := v[i+1]
		if l.fold {
			c = lower(c)
		}
		k := pairKey(b, c)
		if word, bit := l.pairs[k/64], uint64(1)<<(k%64); word&bit != 0 {
			for _, str := range l.byPair[int(l.rank[k/64])+bits.OnesCount64(word&(bit-1))] {
				if l.at(v[i:], str) {
					return true
				}
			}
		}
	}
	return false
}

// at reports whether v starts with str.
func (l *literals) at(v, str string) bool {
	if len(v) < len(str) {
		return false
	}
	if !l.fold {
		return v[:len(str)] == str
	}
	for j := 0; j < len(str); j++ {
		if lower(v[j]) != str[j] {
			return false
		}
	}
	return true
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}
