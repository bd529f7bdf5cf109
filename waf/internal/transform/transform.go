// Package transform holds the transformations the CRS's rules use, copied
// from Coraza v3.8.1's internal/transformations (Apache-2.0, see NOTICE),
// so that the gateway's operators can run a rule's transformations
// themselves (see ../../fused.go). Coraza keeps its own package internal.
// TestTransformsMatchCoraza and FuzzTransformsMatchCoraza hold each to
// Coraza's own, run by a Coraza engine; TestCopiedFromCorazaVersion fails
// when go.mod moves to another Coraza, so that they are copied again.
package transform

import (
	"encoding/binary"
	"strings"
)

// Func is a transformation: the value transformed, whether it changed,
// and an error that leaves the value as it was.
type Func func(string) (string, bool, error)

var byName = map[string]Func{
	"base64decode":       base64decode,
	"cmdline":            cmdLine,
	"compresswhitespace": compressWhitespace,
	"cssdecode":          cssDecode,
	"escapeseqdecode":    escapeSeqDecode,
	"hexencode":          hexEncode,
	"htmlentitydecode":   htmlEntityDecode,
	"jsdecode":           jsDecode,
	"lowercase":          lowerCase,
	"normalisepath":      normalisePath,
	"normalisepathwin":   normalisePathWin,
	"normalizepath":      normalisePath,
	"normalizepathwin":   normalisePathWin,
	"removecommentschar": removeCommentsChar,
	"removenulls":        removeNulls,
	"removewhitespace":   removeWhitespace,
	"replacecomments":    replaceComments,
	"urldecode":          unlessBytes(urlDecode, '%', '+'),
	"urldecodeuni":       unlessBytes(urlDecodeUni, '%', '+'),
	"utf8tounicode":      unlessASCII(utf8ToUnicode),
}

// unlessBytes passes over a value that holds neither a nor b, which f
// leaves as it is but finds byte by byte: IndexByte finds them several
// bytes at a time, which tells on long values. FuzzFastPaths holds each
// to the transformation alone.
func unlessBytes(f Func, a, b byte) Func {
	return func(v string) (string, bool, error) {
		if strings.IndexByte(v, a) < 0 && strings.IndexByte(v, b) < 0 {
			return v, false, nil
		}
		return f(v)
	}
}

// unlessASCII passes over a value of ASCII, which f leaves as it is.
func unlessASCII(f Func) Func {
	return func(v string) (string, bool, error) {
		if IsASCII(v) {
			return v, false, nil
		}
		return f(v)
	}
}

// IsASCII reports whether s holds no byte past 0x7f, reading eight bytes
// at a time.
func IsASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64([]byte(s[i:i+8]))&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Get returns the transformation of a name, spelled in any case as
// SecLang allows.
func Get(name string) (Func, bool) {
	f, ok := byName[strings.ToLower(name)]
	return f, ok
}

// Names lists the names Get knows, in lower case.
func Names() []string {
	out := make([]string, 0, len(byName))
	for n := range byName {
		out = append(out, n)
	}
	return out
}
