package routes

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	goccy "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// yamlLine reads the line from a yaml.v3 syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a syntax error of data, which yaml.v3 reported as err,
// into an Error at the place of the problem.
//
// yaml.v3 gives no column, and its line is where the enclosing block or
// flow collection began (line 1 for most slips of indentation), or none
// for a problem on the first line. A second parser, which keeps the
// position of the token it stumbled on, locates the problem instead, and
// its message, which speaks of that token, goes with it. Should it find
// nothing wrong, yaml.v3's own report stands.
func syntaxError(file string, data []byte, err error) *Error {
	if line, col, msg, ok := badCharacter(data); ok {
		return &Error{File: file, Line: line, Col: col, Msg: msg}
	}
	if line, col, msg, ok := locateSyntaxError(data); ok {
		return &Error{File: file, Line: line, Col: col, Msg: msg}
	}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil && line > 0 {
			return &Error{File: file, Line: line, Col: 1, Msg: m[2]}
		}
	}
	msg, _ = strings.CutPrefix(msg, "yaml: ")
	return &Error{File: file, Msg: msg}
}

// locateSyntaxError parses data with goccy/go-yaml and returns where and
// what its first syntax error is. The parser only runs on a file yaml.v3
// refused, which is bounded in size like every routes file; a panic in it
// means it could not say.
func locateSyntaxError(data []byte) (line, col int, msg string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	// Duplicate keys are the decoder's to report, with both places.
	_, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Message == "" || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 {
		return 0, 0, "", false
	}
	p := se.Token.Position
	return p.Line, max(p.Column, 1), printable(se.Message), true
}

// badCharacter finds the first character that YAML does not allow in a
// file: a control character other than tab and line ends, a byte that is
// not UTF-8, or a non-character. yaml.v3 refuses these before it parses,
// without a place.
func badCharacter(data []byte) (line, col int, msg string, ok bool) {
	line, col = 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == utf8.RuneError && size == 1:
			return line, col, fmt.Sprintf("byte 0x%02x is not UTF-8", data[0]), true
		case r == '\n':
			line, col = line+1, 0
		case r == '\t' || r == '\r' || r == 0x85:
		case r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0xfffe || r == 0xffff:
			return line, col, fmt.Sprintf("control character %U is not allowed", r), true
		}
		col++
		data = data[size:]
	}
	return 0, 0, "", false
}

// printable escapes what a terminal or a log collector would act on in a
// message that quotes the file's bytes: the parser names the character it
// stumbled on, which may be a tab, an escape or a byte that is not UTF-8.
func printable(msg string) string {
	var b strings.Builder
	for len(msg) > 0 {
		r, size := utf8.DecodeRuneInString(msg)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, msg[0])
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		msg = msg[size:]
	}
	return b.String()
}
