package waf

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// A litSet is a finite set of strings. For need, one of them appears in
// every match; for exact, they are every string a piece of pattern
// matches. fold means they are compared without regard to ASCII case
// (and are lower case): a string compared so is found in more values
// than compared exactly, so a set keeps its meaning when folded.
type litSet struct {
	strs []string
	fold bool
}

// Bounds on the sets built, so that a pattern's analysis stays small.
const (
	maxExact   = 64  // strings in a set that exact builds
	maxNeed    = 512 // strings in a set that need builds
	maxLiteral = 64  // bytes of one string
)

// exact returns every string that re matches, when they are few and
// short; ok is false otherwise. A pattern's zero-width assertions (^, $,
// \b) match the empty string here: dropping what they require of a match
// only lets more values through to the regular expression.
func exact(re *syntax.Regexp) (s litSet, ok bool) {
	fold := re.Flags&syntax.FoldCase != 0
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litSet{strs: []string{""}}, true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			// U+FFFD matches any byte that is not UTF-8; under (?i) a
			// letter beyond ASCII matches others that ASCII case does
			// not know.
			if r == utf8.RuneError || fold && r >= utf8.RuneSelf {
				return litSet{}, false
			}
		}
		str := string(re.Rune)
		if fold {
			str = strings.ToLower(str)
		}
		return litSet{strs: []string{str}, fold: fold}, len(str) <= maxLiteral
	case syntax.OpCharClass:
		// The parser has already added every case of every letter to
		// the class of a pattern under (?i).
		var strs []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo >= maxExact || len(strs)+int(hi-lo)+1 > maxExact || hi >= utf8.RuneError && lo <= utf8.RuneError {
				return litSet{}, false
			}
			for r := lo; r <= hi; r++ {
				strs = append(strs, string(r))
			}
		}
		return litSet{strs: strs}, true
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpQuest:
		s, ok := exact(re.Sub[0])
		return union(s, litSet{strs: []string{""}}), ok
	case syntax.OpAlternate:
		var all litSet
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok {
				return litSet{}, false
			}
			if len(all.strs)+len(s.strs) > maxExact {
				return litSet{}, false
			}
			all = union(all, s)
		}
		return all, true
	case syntax.OpConcat:
		all := litSet{strs: []string{""}}
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok {
				return litSet{}, false
			}
			if all, ok = product(all, s); !ok {
				return litSet{}, false
			}
		}
		return all, true
	}
	return litSet{}, false
}

// union is the strings of a and of b, folded when either is.
func union(a, b litSet) litSet {
	fold := a.fold || b.fold
	strs := make([]string, 0, len(a.strs)+len(b.strs))
	for _, s := range [2]litSet{a, b} {
		for _, str := range s.strs {
			if fold && !s.fold {
				str = strings.ToLower(str)
			}
			strs = append(strs, str)
		}
	}
	return litSet{strs: strs, fold: fold}
}

// product is every string of a followed by one of b; ok is false when they
// are too many or too long.
func product(a, b litSet) (litSet, bool) {
	if len(a.strs)*len(b.strs) > maxExact {
		return litSet{}, false
	}
	fold := a.fold || b.fold
	lower := func(s litSet, str string) string {
		if fold && !s.fold {
			return strings.ToLower(str)
		}
		return str
	}
	var strs []string
	for _, x := range a.strs {
		for _, y := range b.strs {
			if len(x)+len(y) > maxLiteral {
				return litSet{}, false
			}
			strs = append(strs, lower(a, x)+lower(b, y))
		}
	}
	return litSet{strs: strs, fold: fold}, true
}

// need returns strings of which every match of re holds one, or an empty
// set when it finds none. Of the sets it could return for a concatenation,
// it keeps the one whose shortest string is longest: the one fewest values
// hold.
func need(re *syntax.Regexp) litSet {
	if s, ok := exact(re); ok && useful(s) {
		return s
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return need(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min > 0 {
			return need(re.Sub[0])
		}
	case syntax.OpAlternate:
		var all litSet
		for _, sub := range re.Sub {
			s := need(sub)
			if !useful(s) || len(all.strs)+len(s.strs) > maxNeed {
				return litSet{}
			}
			all = union(all, s)
		}
		return all
	case syntax.OpConcat:
		var best litSet
		consider := func(s litSet) {
			if useful(s) && (!useful(best) || better(s, best)) {
				best = s
			}
		}
		// A run of pieces that each match few strings matches their
		// product, which is longer than any one of them.
		run := litSet{strs: []string{""}}
		for _, sub := range re.Sub {
			if s, ok := exact(sub); ok {
				if p, ok := product(run, s); ok {
					run = p
					continue
				}
				consider(run)
				run = s
				continue
			}
			consider(run)
			run = litSet{strs: []string{""}}
			consider(need(sub))
		}
		consider(run)
		return best
	}
	return litSet{}
}

// useful reports whether some value could hold none of s's strings.
func useful(s litSet) bool {
	if len(s.strs) == 0 {
		return false
	}
	for _, str := range s.strs {
		if str == "" {
			return false
		}
	}
	return true
}

// better reports whether fewer values would hold one of a's strings than
// one of b's, by their shortest string and then by their number.
func better(a, b litSet) bool {
	sa, sb := shortest(a), shortest(b)
	if sa != sb {
		return sa > sb
	}
	return len(a.strs) < len(b.strs)
}

func shortest(s litSet) int {
	n := maxLiteral + 1
	for _, str := range s.strs {
		n = min(n, len(str))
	}
	return n
}
