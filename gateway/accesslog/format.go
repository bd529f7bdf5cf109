package accesslog

import (
	"fmt"
	"strconv"
	"strings"
)

// Format is a compiled Envoy command-operator string, such as
// `[%START_TIME%] "%REQ(:METHOD)% %PROTOCOL%" %RESPONSE_CODE%\n`. It is parsed
// once by Compile and is safe for concurrent use.
//
// Values are written as Envoy writes them, with one deliberate difference:
// bytes that could end a value's field, its quotes or the line are escaped
// as \n, \r, \t or \xHH (see escapeQuoted): control bytes, bytes from 0x7f
// up, '"' and '\\' everywhere, and a space unless the value is a quoted field
// by itself ("%REQ(USER-AGENT)%"). Envoy copies header values verbatim, so a
// client that sends a quote and a newline in User-Agent can forge a whole log
// line; here every line has the fields its format gives it. Printable ASCII
// is copied unchanged, so parsers written for Envoy's lines keep working.
type Format struct {
	text  string
	parts []part
}

// part is a literal or an operator; emit is nil for a literal.
type part struct {
	lit  string
	emit emitFunc
}

// emitFunc appends one operator's value for r.
type emitFunc func(dst []byte, r *Record) []byte

// Compile parses an Envoy format string. It rejects unknown operators, a '%'
// that starts no operator (write %% for a literal '%'), arguments an operator
// does not take, and bad truncation lengths; the error names the operator and
// its byte offset.
func Compile(format string) (*Format, error) {
	f := &Format{text: format}
	var lit strings.Builder
	var prev byte // the literal byte just before i, 0 after an operator
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			prev = c
			i++
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			lit.WriteByte('%')
			prev = '%'
			i += 2
			continue
		}
		emit, n, err := parseOperator(format, i, prev == '"')
		if err != nil {
			return nil, err
		}
		if lit.Len() > 0 {
			f.parts = append(f.parts, part{lit: lit.String()})
			lit.Reset()
		}
		f.parts = append(f.parts, part{emit: emit})
		prev = 0
		i += n
	}
	if lit.Len() > 0 {
		f.parts = append(f.parts, part{lit: lit.String()})
	}
	return f, nil
}

// Append appends the line for r to dst. The format's own text decides
// whether the line ends in a newline; the presets do.
func (f *Format) Append(dst []byte, r *Record) []byte {
	for i := range f.parts {
		p := &f.parts[i]
		if p.emit == nil {
			dst = append(dst, p.lit...)
			continue
		}
		dst = p.emit(dst, r)
	}
	return dst
}

// String returns the format string that Compile was given.
func (f *Format) String() string { return f.text }

// parseOperator parses the operator that starts at s[at] == '%' and returns
// its emitter and its length in bytes, both '%' included. The grammar is
// Envoy's: %NAME%, %NAME(ARG)%, %NAME:LEN% or %NAME(ARG):LEN%, where NAME is
// [A-Z0-9_]+ and ARG holds no ')'. afterQuote says that a '"' comes just
// before the operator: with one just after it, the operator is a quoted
// field by itself, and a space in its value is not escaped.
func parseOperator(s string, at int, afterQuote bool) (emitFunc, int, error) {
	j := at + 1
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	name := s[at+1 : j]
	if name == "" {
		return nil, 0, fmt.Errorf("offset %d: '%%' starts no operator (write %%%% for a literal '%%')", at)
	}
	var arg string
	hasArg := false
	if j < len(s) && s[j] == '(' {
		end := strings.IndexByte(s[j:], ')')
		if end < 0 {
			return nil, 0, fmt.Errorf("offset %d: operator %%%s: unterminated '('", at, name)
		}
		arg, hasArg = s[j+1:j+end], true
		j += end + 1
	}
	maxLen := 0
	if j < len(s) && s[j] == ':' {
		k := j + 1
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		n, err := strconv.Atoi(s[j+1 : k])
		if err != nil || n <= 0 || k == len(s) || s[k] != '%' {
			return nil, 0, fmt.Errorf("offset %d: operator %%%s: truncation length must be a positive integer followed by '%%', got %q", at, name, tail(s[j+1:], 12))
		}
		maxLen = n
		j = k
	}
	if j >= len(s) || s[j] != '%' {
		return nil, 0, fmt.Errorf("offset %d: operator %%%s: unterminated, want '%%' at offset %d", at, name, j)
	}
	quoted := afterQuote && j+1 < len(s) && s[j+1] == '"'
	emit, err := buildOperator(name, arg, hasArg, valueOpts{max: maxLen, quoted: quoted})
	if err != nil {
		return nil, 0, fmt.Errorf("offset %d: %w", at, err)
	}
	return emit, j + 1 - at, nil
}

func isNameByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// tail returns at most n bytes of s, for quoting in errors.
func tail(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
