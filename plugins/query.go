package plugins

import "errors"

// ErrQuery is the error of SetQuery for a query not in the form forwarded.
var ErrQuery = errors.New("query holds a byte that a URL carries only escaped")

// SetQuery implements RequestView. The request's URL follows, and so does
// the one HTTPRequest built.
func (v *StdRequest) SetQuery(raw string) error {
	if !queryForm(raw) {
		return ErrQuery
	}
	v.query = raw
	v.r.URL.RawQuery = raw
	if v.hatch != nil {
		v.hatch.URL.RawQuery = raw
	}
	return nil
}

// queryForm reports whether q is a raw query in the form the gateway
// forwards: without a byte that a URL carries only escaped. Such a byte is
// a control byte, a space, '#', '\', a non-ASCII byte or one of
// " < > [ ] ^ ` { | }.
func queryForm(q string) bool {
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case '"', '#', '<', '>', '[', '\\', ']', '^', '`', '{', '|', '}':
			return false
		default:
			if c <= ' ' || c >= 0x7f {
				return false
			}
		}
	}
	return true
}
