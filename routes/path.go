package routes

import (
	"errors"
	"strings"
)

// The ways a request path can be malformed. Each is answered 400: a path the
// gateway cannot read one way only must not be routed at all.
var (
	// ErrPathRelative is a path that does not start with a slash.
	ErrPathRelative = errors.New("path does not start with a slash")
	// ErrPathNUL is a path with a NUL byte, raw or as %00.
	ErrPathNUL = errors.New("path contains a nul byte")
	// ErrPathControl is a path with a raw control character or space.
	ErrPathControl = errors.New("path contains a control character or space")
	// ErrPathEscape is a path with a percent sign not followed by two hex
	// digits.
	ErrPathEscape = errors.New("path contains a malformed percent escape")
	// ErrPathDelimiter is a path with a raw # or ?: the query is split off
	// before normalising and a fragment is never sent, so either one means the
	// client and the gateway disagree on where the path ends.
	ErrPathDelimiter = errors.New("path contains a raw # or ?")
	// ErrPathDotParams is a path with a "." or ".." segment that carries
	// parameters (/..;x/), which some servers resolve as a dot segment.
	ErrPathDotParams = errors.New("path contains a dot segment with parameters")
	// ErrEscapedSlash is a path with %2F or %5C when escaped_slashes is
	// reject.
	ErrEscapedSlash = errors.New("path contains an escaped slash")
)

// NormalizePath returns the normalised form of a request path as it arrived
// on the wire: still percent-encoded and without the query. The result is
// both what routes match and what is forwarded upstream, so no request can
// match one route under one reading of its path and reach a backend that
// reads it another way.
//
// It does what Envoy does with normalize_path (Istio's default): percent
// escapes of unreserved characters (letters, digits, - . _ ~) are decoded,
// every other escape is kept with upper-case hex, a backslash becomes a
// slash, and then dot segments are removed as RFC 3986 section 5.2.4 says.
// Decoding comes first, so %2E%2E is a dot segment and is removed; each
// escape is decoded once, so %252E stays as it is. opts.EscapedSlashes says
// what %2F and %5C become: kept (keep, the default, and any unknown value,
// which Load rejects), an error (reject), or a slash before dot segments are
// removed (unescape). opts.MergeSlashes then turns runs of slashes into one.
//
// A byte that RFC 3986 allows in a path only percent-encoded (one of
// " < > [ ] ^ ` { | } or any byte from 0x80 up) is encoded, as Envoy's
// path canonicaliser does for most of them: its raw and encoded spellings
// name the same resource to every server that decodes paths, so they must
// normalise alike, or a rule written for one spelling misses the other. The
// result is then always a valid RFC 3986 path, which a transport writes as it
// is and a backend reads back byte for byte. Sub-delimiters, ':' and '@' stay
// as they came, escaped or not, since RFC 3986 lets them mean something
// different from their escapes.
//
// A path that is already normal is returned as it is, without allocating.
func NormalizePath(escapedPath string, opts PathOptions) (string, error) {
	if escapedPath == "" || escapedPath[0] != '/' {
		return "", ErrPathRelative
	}
	if opts.Verbatim {
		if err := checkVerbatim(escapedPath); err != nil {
			return "", err
		}
		return escapedPath, nil
	}
	if isNormal(escapedPath, opts) {
		if dotParams(escapedPath) {
			return "", ErrPathDotParams
		}
		return escapedPath, nil
	}
	b, err := decodePath(escapedPath, opts.EscapedSlashes)
	if err != nil {
		return "", err
	}
	b = removeDotSegments(b)
	if opts.MergeSlashes {
		b = mergeSlashes(b)
	}
	n := string(b)
	if dotParams(n) {
		return "", ErrPathDotParams
	}
	return n, nil
}

// dotParams reports whether a segment of p is "." or ".." with parameters
// after a ';' (/a/..;x/b). RFC 3986 does not make it a dot segment, so it
// stays, but servlet containers (Tomcat, Jetty) strip the parameters
// before they resolve dot segments: such a path would be matched here as
// one path and served there as another. It costs one byte search for
// paths without ';'.
func dotParams(p string) bool {
	if strings.IndexByte(p, ';') < 0 {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if name, _, ok := strings.Cut(seg, ";"); ok && (name == "." || name == "..") {
			return true
		}
	}
	return false
}

// decodePath checks every byte of p and returns it with unreserved escapes
// decoded, other escapes upper-cased, backslashes turned into slashes and
// escaped slashes handled as mode says.
func decodePath(p, mode string) ([]byte, error) {
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			v, err := unescapeAt(p, i)
			if err != nil {
				return nil, err
			}
			switch {
			case isUnreserved(v):
				b = append(b, v)
			case v == '/' || v == '\\':
				if mode == "reject" {
					return nil, ErrEscapedSlash
				}
				if mode == "unescape" {
					b = append(b, '/')
					break
				}
				b = append(b, '%', upperHex(p[i+1]), upperHex(p[i+2]))
			default:
				b = append(b, '%', upperHex(p[i+1]), upperHex(p[i+2]))
			}
			i += 2
		case c == '\\':
			b = append(b, '/')
		default:
			if err := checkRaw(c); err != nil {
				return nil, err
			}
			if mustEscape(c) {
				b = appendEscaped(b, c)
				break
			}
			b = append(b, c)
		}
	}
	return b, nil
}

// unescapeAt decodes the escape that starts at p[i], which is '%'.
func unescapeAt(p string, i int) (byte, error) {
	if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
		return 0, ErrPathEscape
	}
	v := unhex(p[i+1])<<4 | unhex(p[i+2])
	if v == 0 {
		return 0, ErrPathNUL
	}
	return v, nil
}

// checkRaw reports whether c may appear unescaped in a path.
func checkRaw(c byte) error {
	switch {
	case c == 0:
		return ErrPathNUL
	case c <= ' ' || c == 0x7f:
		return ErrPathControl
	case c == '#' || c == '?':
		return ErrPathDelimiter
	}
	return nil
}

// mustEscape reports whether c may appear in an RFC 3986 path only
// percent-encoded. Control bytes, space, '#', '?' and the backslash are not
// among them: checkRaw refuses the first four and a backslash is a slash.
func mustEscape(c byte) bool {
	switch c {
	case '"', '<', '>', '[', ']', '^', '`', '{', '|', '}':
		return true
	}
	return c >= 0x80
}

// escapeRaw percent-encodes the bytes of p that mustEscape names and leaves
// every other byte, escapes included, as it is. Paths in the routes file go
// through it, so that a route may spell such a byte either way and still be
// compared with requests in the form NormalizePath gives them.
func escapeRaw(p string) string {
	n := 0
	for i := 0; i < len(p); i++ {
		if mustEscape(p[i]) {
			n++
		}
	}
	if n == 0 {
		return p
	}
	b := make([]byte, 0, len(p)+2*n)
	for i := 0; i < len(p); i++ {
		if c := p[i]; mustEscape(c) {
			b = appendEscaped(b, c)
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// appendEscaped appends c percent-encoded with upper-case hex.
func appendEscaped(b []byte, c byte) []byte {
	const hex = "0123456789ABCDEF"
	return append(b, '%', hex[c>>4], hex[c&15])
}

// isNormal reports whether NormalizePath would return p unchanged: every byte
// allowed raw, no escape to decode or upper-case, no backslash, no dot segment,
// and with MergeSlashes no empty segment but the last. p starts with '/'.
// When it reports false, decodePath finds any error.
func isNormal(p string, opts PathOptions) bool {
	segStart := 1
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			seg := p[segStart:i]
			if seg == "." || seg == ".." || (opts.MergeSlashes && seg == "" && i < len(p)) {
				return false
			}
			segStart = i + 1
			continue
		}
		switch c := p[i]; c {
		case '%':
			v, err := unescapeAt(p, i)
			if err != nil || isUnreserved(v) || isLowerHex(p[i+1]) || isLowerHex(p[i+2]) {
				return false
			}
			if (v == '/' || v == '\\') && (opts.EscapedSlashes == "reject" || opts.EscapedSlashes == "unescape") {
				return false
			}
			i += 2
		case '\\':
			return false
		default:
			if checkRaw(c) != nil || mustEscape(c) {
				return false
			}
		}
	}
	return true
}

// removeDotSegments removes "." and ".." segments from b, which starts with
// '/', in place, as RFC 3986 section 5.2.4 does for an absolute path: ".."
// removes the segment before it and never climbs above the root, and a dot
// segment at the end leaves a trailing slash ("/a/b/.." is "/a/").
func removeDotSegments(b []byte) []byte {
	out := b[:0]
	for i := 0; i < len(b); {
		j := i + 1
		for j < len(b) && b[j] != '/' {
			j++
		}
		switch dots(b[i+1 : j]) {
		case 1:
		case 2:
			k := len(out) - 1
			for k >= 0 && out[k] != '/' {
				k--
			}
			out = out[:max(k, 0)]
		default:
			// out never runs ahead of i, and append copies like memmove,
			// so the overlap is safe.
			out = append(out, b[i:j]...)
			i = j
			continue
		}
		if j == len(b) {
			out = append(out, '/')
		}
		i = j
	}
	if len(out) == 0 {
		out = append(out, '/')
	}
	return out
}

// dots is 1 for the segment ".", 2 for "..", and 0 for any other.
func dots(seg []byte) int {
	for _, c := range seg {
		if c != '.' {
			return 0
		}
	}
	if len(seg) > 2 {
		return 0
	}
	return len(seg)
}

// mergeSlashes turns each run of slashes in b into one, in place.
func mergeSlashes(b []byte) []byte {
	out := b[:0]
	for _, c := range b {
		if c == '/' && len(out) > 0 && out[len(out)-1] == '/' {
			continue
		}
		out = append(out, c)
	}
	return out
}

// isUnreserved reports whether c is an RFC 3986 unreserved character, which
// means the same escaped or not.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isLowerHex(c byte) bool { return 'a' <= c && c <= 'f' }

func upperHex(c byte) byte {
	if isLowerHex(c) {
		return c - 'a' + 'A'
	}
	return c
}

// unhex is the value of hex digit c, which isHex has accepted.
func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// ErrQuery is a query with a control character, a space or a raw #.
var ErrQuery = errors.New("query contains a control character, a space or a #")

// NormalizeQuery returns a request's raw query in the form the gateway
// forwards: the bytes a URL may hold only escaped (see mustEscape, and a
// backslash) percent-encoded, every other byte, escapes included, as it
// came. A control character, a space or a # is an error: HTTP/1 refuses
// them in a request line, and HTTP/2 and HTTP/3 must not carry into an
// upstream's request line what HTTP/1 would refuse. A query that needs
// nothing done is returned as it is, without allocating.
func NormalizeQuery(q string) (string, error) {
	n := 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c <= ' ' || c == 0x7f || c == '#':
			return "", ErrQuery
		case mustEscape(c) || c == '\\':
			n++
		}
	}
	if n == 0 {
		return q, nil
	}
	b := make([]byte, 0, len(q)+2*n)
	for i := 0; i < len(q); i++ {
		if c := q[i]; mustEscape(c) || c == '\\' {
			b = appendEscaped(b, c)
		} else {
			b = append(b, c)
		}
	}
	return string(b), nil
}

// checkVerbatim checks a path that is not normalised (PathOptions.Verbatim)
// for what is refused whatever the mode: NUL, control bytes, raw # and ?,
// and malformed escapes.
func checkVerbatim(p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] == '%' {
			if _, err := unescapeAt(p, i); err != nil {
				return err
			}
			i += 2
			continue
		}
		if err := checkRaw(p[i]); err != nil {
			return err
		}
	}
	return nil
}
