package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// endsInNumber reports whether the last label of name is a number as the
// URL Standard's "ends in a number" checker says: ASCII digits only, or 0x
// or 0X followed by hex digits only. Such a host is read as IPv4.
func endsInNumber(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if allDigits(last, 10) {
		return true
	}
	return len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') && allDigits(last[2:], 16)
}

// parseIPv4Number reads s as inet_aton and the URL Standard's IPv4 parser
// both do: one to four parts, the last filling the bytes that remain. It
// refuses what they disagree on or what other readers take differently: a
// part with a leading zero (octal to them, decimal to others), an empty hex
// part ("0x", zero to the URL Standard, an error to others), and any part
// out of range.
func parseIPv4Number(s string) (netip.Addr, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, errors.New("an IPv4 address has at most four parts")
	}
	var n [4]uint64
	for i, p := range parts {
		v, err := parseIPv4Part(p)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("IPv4 part %q: %w", p, err)
		}
		n[i] = v
	}
	last := len(parts) - 1
	for i := range last {
		if n[i] > 0xff {
			return netip.Addr{}, fmt.Errorf("IPv4 part %q above 255", parts[i])
		}
	}
	if n[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, fmt.Errorf("IPv4 part %q too large for its place", parts[last])
	}
	v := uint32(n[last])
	for i := range last {
		v |= uint32(n[i]) << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}

// parseIPv4Part reads one part: decimal without leading zeros, or 0x hex.
func parseIPv4Part(p string) (uint64, error) {
	base, digits := uint64(10), p
	switch {
	case p == "":
		return 0, errors.New("empty")
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, digits = 16, p[2:]
		if digits == "" {
			return 0, errors.New("hex without digits")
		}
	case p[0] == '0' && len(p) > 1:
		return 0, errors.New("leading zero: octal to some readers, decimal to others")
	}
	if !allDigits(digits, base) {
		return 0, errors.New("not a number")
	}
	var v uint64
	for i := 0; i < len(digits); i++ {
		v = v*base + uint64(hexValue(digits[i]))
		if v > 0xffffffff {
			return 0, errors.New("above 2^32-1")
		}
	}
	return v, nil
}

func allDigits(s string, base uint64) bool {
	for i := 0; i < len(s); i++ {
		if uint64(hexValue(s[i])) >= base {
			return false
		}
	}
	return true
}

// hexValue is the value of a hex digit, 255 for any other byte.
func hexValue(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}
