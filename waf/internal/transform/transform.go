// Package transform holds the transformations the CRS's rules use, copied
// from Coraza v3.8.1's internal/transformations (Apache-2.0, see NOTICE),
// so that the gateway's operators can run a rule's transformations
// themselves (see ../../fused.go). Coraza keeps its own package internal.
// TestTransformsMatchCoraza holds each to Coraza's own, through an engine.
package transform

import "strings"

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
	"urldecode":          urlDecode,
	"urldecodeuni":       urlDecodeUni,
	"utf8tounicode":      utf8ToUnicode,
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
