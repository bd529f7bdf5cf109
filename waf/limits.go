package waf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
)

// usage counts what a request makes the rules inspect against a profile's
// limits, before Coraza parses or inspects any of it: the bytes the rules
// read (header fields, the query, the body but for uploaded files' contents;
// the CRS has any body that no other parser takes read as a form), the
// arguments, and the nesting of JSON and XML. Counting costs a fraction of
// inspecting, so a request past a limit is refused having cost little.
type usage struct {
	l           *Limits
	bytes, args int
	// over names the first limit passed, for the access log; empty while
	// the request is within them all.
	over string
}

// Names of the limits, as the access log's details give them.
const (
	overBytes = "inspected_bytes"
	overArgs  = "args"
	overDepth = "depth"
	overBody  = "request_body"
)

// add counts n more bytes and args more arguments, and reports whether the
// request is still within its limits.
func (u *usage) add(n, args int) bool {
	u.bytes += n
	u.args += args
	switch {
	case u.over != "":
	case u.bytes > int(u.l.InspectedBytes):
		u.over = overBytes
	case u.args > u.l.Args:
		u.over = overArgs
	}
	return u.over == ""
}

// header counts a header field: its bytes, and as values that the rules
// read one by one, the field and each cookie of a Cookie field.
func (u *usage) header(k, v string) bool {
	args := 1
	if strings.EqualFold(k, "Cookie") {
		for c := range strings.SplitSeq(v, ";") {
			if strings.TrimSpace(c) != "" {
				args++
			}
		}
	}
	return u.add(len(k)+len(v), args)
}

// query counts a query string: its bytes and its arguments.
func (u *usage) query(q string) bool { return u.add(len(q), countArgs(q)) }

// countArgs counts the arguments of a query or a form body: the parts
// between '&' that are not empty, as Coraza splits them.
func countArgs(s string) int {
	n := 0
	for part := range strings.SplitSeq(s, "&") {
		if part != "" {
			n++
		}
	}
	return n
}

// body counts a request body, read by processor (Coraza's REQBODY_PROCESSOR:
// URLENCODED, MULTIPART, JSON, XML, or none, which the CRS reads as a form).
func (u *usage) body(processor, contentType string, b []byte) bool {
	switch strings.ToUpper(processor) {
	case "MULTIPART":
		return u.multipart(contentType, b)
	case "JSON":
		return u.add(len(b), 0) && u.json(b)
	case "XML":
		return u.add(len(b), 0) && u.xml(b)
	}
	return u.add(len(b), countArgs(string(b)))
}

// json counts a JSON body's values and checks its nesting. It reads bytes,
// never builds anything, and stops at the first limit passed; a body that
// is not JSON is left for Coraza to refuse.
func (u *usage) json(b []byte) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{', '[':
			if depth++; depth > u.l.Depth {
				u.over = overDepth
				return false
			}
		case '}', ']':
			depth--
		case '"':
			i = skipString(b, i+1)
			if !isKey(b, i+1) && !u.add(0, 1) {
				return false
			}
		case ' ', '\t', '\r', '\n', ',', ':':
		default:
			// A number, true, false or null.
			for i+1 < len(b) && !strings.ContainsRune(" \t\r\n,:]}", rune(b[i+1])) {
				i++
			}
			if !u.add(0, 1) {
				return false
			}
		}
	}
	return true
}

// skipString returns the index of the quote that ends the string starting
// at i, or the last index when it never ends.
func skipString(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(b) - 1
}

// isKey reports whether the string that ended before i is an object's key:
// a ':' follows it.
func isKey(b []byte, i int) bool {
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
		case ':':
			return true
		default:
			return false
		}
	}
	return false
}

// xml counts an XML body's text and attribute values and checks its
// nesting. Go's decoder expands no entities that the document declares, so
// reading costs no more than the bytes; a body that is not XML is left for
// Coraza to refuse.
func (u *usage) xml(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	depth := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			return true
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > u.l.Depth {
				u.over = overDepth
				return false
			}
			if !u.add(0, len(t.Attr)) {
				return false
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 && !u.add(0, 1) {
				return false
			}
		}
	}
}

// multipart counts a multipart body: each part's header fields and, for a
// form field, its name and value; an uploaded file's contents are not
// inspected, only its name. Every part counts as an argument. A body that
// does not parse is left for Coraza to refuse.
func (u *usage) multipart(contentType string, b []byte) bool {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return true
	}
	r := multipart.NewReader(bytes.NewReader(b), params["boundary"])
	for {
		p, err := r.NextPart()
		if err != nil {
			return true
		}
		n := 0
		for k, vs := range p.Header {
			for _, v := range vs {
				n += len(k) + len(v)
			}
		}
		if p.FileName() == "" {
			size, err := io.Copy(io.Discard, p)
			n += int(size)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				return u.add(n, 1)
			}
		}
		if !u.add(n, 1) {
			return false
		}
	}
}
