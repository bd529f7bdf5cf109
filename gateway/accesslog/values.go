package accesslog

import (
	"strings"
	"time"
)

const hexDigits = "0123456789abcdef"

// valueOpts say how an operator writes a text value: cut to max bytes (0:
// no limit), and whether the value is a whole quoted field by itself, as
// "%REQ(USER-AGENT)%" is, where a space belongs to the value instead of
// ending the field.
type valueOpts struct {
	max    int
	quoted bool
}

// appendValue appends s cut to o.max bytes with every byte escaped that
// could end its field, its quotes or the line, or "-" when nothing is left.
// Cutting comes first, as in Envoy, so the limit counts the value's own
// bytes.
func appendValue(dst []byte, s string, o valueOpts) []byte {
	if o.max > 0 && len(s) > o.max {
		s = s[:o.max]
	}
	if s == "" {
		return append(dst, '-')
	}
	if o.quoted {
		return appendEscaped(dst, s, &escapeQuoted)
	}
	return appendEscaped(dst, s, &escapeBare)
}

// escapeQuoted marks the bytes escaped inside a quoted field: control bytes,
// DEL and every byte from 0x80 up (C1 controls, and the pieces of Unicode
// line separators and bidirectional overrides that make a forged line look
// real in a terminal or viewer), the quote that would close the field, and
// the backslash, so that an escape in the line always means the gateway
// wrote it. escapeBare adds the space, which separates unquoted fields and
// the parts of the request line. This is nginx's escaping (escape=default),
// which log parsers already read, except that a newline, a carriage return
// and a tab keep their short forms. Envoy copies values verbatim, so that a
// client could write a whole line of its own.
var escapeQuoted, escapeBare = func() (q, b [256]bool) {
	for c := range 256 {
		q[c] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\'
		b[c] = q[c] || c == ' '
	}
	return q, b
}()

// appendEscaped appends s with the bytes esc marks written as \n, \r, \t or
// \xHH.
func appendEscaped(dst []byte, s string, esc *[256]bool) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !esc[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// appendFlags appends the flags as %RESPONSE_FLAGS% (short) or
// %RESPONSE_FLAGS_LONG% prints them, without building a string.
func appendFlags(dst []byte, f Flags, long bool) []byte {
	if f == 0 {
		return append(dst, '-')
	}
	first := true
	for _, n := range flagNames {
		if f&n.flag == 0 {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if long {
			dst = append(dst, n.long...)
		} else {
			dst = append(dst, n.short...)
		}
	}
	return dst
}

// hostOf returns the IP of an ip:port or [ipv6]:port address, without
// brackets, as Envoy's *_WITHOUT_PORT operators print it. An address without
// a port is returned whole.
func hostOf(addr string) string {
	if strings.HasPrefix(addr, "[") {
		if end := strings.IndexByte(addr, ']'); end > 0 {
			return addr[1:end]
		}
		return addr
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || strings.IndexByte(addr[:i], ':') >= 0 {
		return addr // no port, or a bare IPv6 address
	}
	return addr[:i]
}

// portOf returns the port of an ip:port or [ipv6]:port address, or "" when
// there is none.
func portOf(addr string) string {
	if strings.HasPrefix(addr, "[") {
		end := strings.IndexByte(addr, ']')
		if end < 0 || end+1 >= len(addr) || addr[end+1] != ':' {
			return ""
		}
		return addr[end+2:]
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || strings.IndexByte(addr[:i], ':') >= 0 {
		return ""
	}
	return addr[i+1:]
}

// upstreamTime returns the record's upstream service time in milliseconds
// and whether it is known. A negative value means no upstream answered; zero
// is also what a fresh record holds, so it counts only when the response is
// known to come from the upstream.
func upstreamTime(r *Record) (int64, bool) {
	d := r.UpstreamServiceTime
	if d < 0 || d == 0 && r.ResponseCodeDetails != "via_upstream" {
		return 0, false
	}
	return d.Milliseconds(), true
}

// appendStartTime appends t as UTC ISO-8601 with milliseconds, Envoy's
// default %START_TIME%, or "-" for the zero time.
func appendStartTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, '-')
	}
	return t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
}
