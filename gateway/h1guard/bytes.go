package h1guard

import "golang.org/x/net/http/httpguts"

// Byte classes of RFC 9110 and RFC 9112, as tables so that the scanner's
// inner loops cost one load and one branch a byte.
var (
	isToken = classTable(isTokenByte)
	// Methods are upper case, as every registered one is (M-SEARCH and
	// VERSION-CONTROL bring the dash). Envoy refuses "get" too: one server
	// folds it to GET and the next does not.
	isMethod = classTable(func(c byte) bool { return 'A' <= c && c <= 'Z' || c == '-' })
	isTarget = classTable(func(c byte) bool { return c > ' ' && c != 0x7f })
	isValue  = classTable(func(c byte) bool { return c == '\t' || c >= ' ' && c != 0x7f })
	isQuoted = classTable(func(c byte) bool { return isValue[c] && c != '"' && c != '\\' })
	// isHost is what net/http accepts in a Host value (httpguts), so
	// that a value it would refuse is refused, and logged, here.
	isHost   = classTable(func(c byte) bool { return httpguts.ValidHostHeader(string([]byte{c})) })
	hexValue = hexTable()
)

// isTokenByte reports whether c is a tchar: a visible ASCII byte that is not
// a delimiter.
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func classTable(in func(byte) bool) (t [256]bool) {
	for c := range 256 {
		t[c] = in(byte(c))
	}
	return t
}

// hexTable maps a hex digit to its value and every other byte to -1.
func hexTable() (t [256]int8) {
	for c := range 256 {
		switch {
		case '0' <= c && c <= '9':
			t[c] = int8(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = int8(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			t[c] = int8(c - 'A' + 10)
		default:
			t[c] = -1
		}
	}
	return t
}

// unexpected is the kind for byte c where the grammar wants something else:
// a lone LF is always a bare line ending, anything else breaks rule k.
func unexpected(c byte, k Kind) Kind {
	if c == '\n' {
		return BareLF
	}
	return k
}
