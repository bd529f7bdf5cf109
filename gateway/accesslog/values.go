package accesslog

import (
	"strings"
	"time"
)

const hexDigits = "0123456789abcdef"

// appendValue appends s cut to maxLen bytes (0: no limit) with control
// characters escaped, or "-" when nothing is left. Cutting comes first, as in
// Envoy, so the limit counts the value's own bytes.
func appendValue(dst []byte, s string, maxLen int) []byte {
	if maxLen > 0 && len(s) > maxLen {
		s = s[:maxLen]
	}
	if s == "" {
		return append(dst, '-')
	}
	return appendEscaped(dst, s)
}

// appendEscaped appends s with bytes below 0x20 and 0x7f written as \n, \r,
// \t or \xHH, so that no value can end a line or drive a terminal. Nothing
// else is touched: this is a guard against forged lines, not a quoting
// scheme.
func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != 0x7f {
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
