package accesslog

import (
	"fmt"
	"strconv"
	"time"
)

// timeVerb is one piece of a %START_TIME(...)% layout: literal text, or a
// strftime specifier with, for %Nf, its number of digits.
type timeVerb struct {
	lit    string
	verb   byte
	digits int
}

// buildStartTime compiles %START_TIME% (UTC ISO-8601 with milliseconds) or
// %START_TIME(layout)%, where layout is strftime text with these specifiers,
// all in UTC:
//
//	%Y year  %m month  %d day  %H hour  %M minute  %S second
//	%F = %Y-%m-%d  %T = %H:%M:%S  %z zone (+0000)  %s Unix seconds
//	%1f … %9f that many digits of the second's fraction, %f nine  %% '%'
//
// Any other specifier is a compile error, so a typo is not written to every
// line.
func buildStartTime(arg string, _ valueOpts) (emitFunc, error) {
	if arg == "" {
		return func(dst []byte, r *Record) []byte { return appendStartTime(dst, r.Start) }, nil
	}
	layout, err := parseTimeLayout(arg)
	if err != nil {
		return nil, err
	}
	return func(dst []byte, r *Record) []byte {
		if r.Start.IsZero() {
			return append(dst, '-')
		}
		return appendTime(dst, r.Start.UTC(), layout)
	}, nil
}

func parseTimeLayout(s string) ([]timeVerb, error) {
	var out []timeVerb
	lit := 0
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			// A newline here would end every line early.
			return nil, fmt.Errorf("control character %q in time layout at offset %d", s[i], i)
		}
		if s[i] != '%' {
			continue
		}
		if i > lit {
			out = append(out, timeVerb{lit: s[lit:i]})
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("time layout ends in a lone '%%'")
		}
		v := timeVerb{verb: s[i+1]}
		switch {
		case v.verb == 'f':
			v.digits = 9
		case v.verb >= '1' && v.verb <= '9' && i+2 < len(s) && s[i+2] == 'f':
			v.verb, v.digits = 'f', int(s[i+1]-'0')
			i++
		case v.verb == '%':
			v = timeVerb{lit: "%"}
		default:
			if !isTimeVerb(v.verb) {
				return nil, fmt.Errorf("unsupported time specifier %%%c at offset %d", v.verb, i)
			}
		}
		out = append(out, v)
		i++
		lit = i + 1
	}
	if lit < len(s) {
		out = append(out, timeVerb{lit: s[lit:]})
	}
	return out, nil
}

func isTimeVerb(c byte) bool {
	switch c {
	case 'Y', 'm', 'd', 'H', 'M', 'S', 'F', 'T', 'z', 's':
		return true
	}
	return false
}

func appendTime(dst []byte, t time.Time, layout []timeVerb) []byte {
	for _, v := range layout {
		switch v.verb {
		case 0:
			dst = append(dst, v.lit...)
		case 'Y':
			dst = appendPadded(dst, t.Year(), 4)
		case 'm':
			dst = appendPadded(dst, int(t.Month()), 2)
		case 'd':
			dst = appendPadded(dst, t.Day(), 2)
		case 'H':
			dst = appendPadded(dst, t.Hour(), 2)
		case 'M':
			dst = appendPadded(dst, t.Minute(), 2)
		case 'S':
			dst = appendPadded(dst, t.Second(), 2)
		case 'F':
			dst = t.AppendFormat(dst, "2006-01-02")
		case 'T':
			dst = t.AppendFormat(dst, "15:04:05")
		case 'z':
			dst = append(dst, "+0000"...)
		case 's':
			dst = strconv.AppendInt(dst, t.Unix(), 10)
		case 'f':
			frac := t.Nanosecond()
			for range 9 - v.digits {
				frac /= 10
			}
			dst = appendPadded(dst, frac, v.digits)
		}
	}
	return dst
}

// appendPadded appends n with leading zeros to at least width digits.
func appendPadded(dst []byte, n, width int) []byte {
	var buf [20]byte
	b := strconv.AppendInt(buf[:0], int64(n), 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}
