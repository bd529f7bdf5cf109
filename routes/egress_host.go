package routes

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// hostProfile maps a name to its A-labels as a resolver would look it up
// (UTS #46), refusing labels that are not valid host-name labels.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.StrictDomainName(true),
	idna.VerifyDNSLength(true),
	idna.Transitional(false),
)

// CanonicalName returns a host name in the form egress rules compare: lower
// case, without a trailing dot, each label as its A-label (xn--…). It
// refuses IP addresses, empty labels and labels that are not host-name
// labels, and a name that is all digits in its last label, which some
// resolvers read as an address (127.1, 0x7f.1).
func CanonicalName(s string) (string, error) {
	name := strings.TrimSuffix(s, ".")
	if name == "" {
		return "", errors.New("empty host name")
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%q is not UTF-8", s)
	}
	if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return "", fmt.Errorf("%q is an IP address, not a host name", s)
	}
	a, err := hostProfile.ToASCII(name)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid host name: %w", s, err)
	}
	a = strings.ToLower(a)
	if a == "" || strings.HasSuffix(a, ".") {
		return "", fmt.Errorf("%q has an empty label", s)
	}
	last := a[strings.LastIndexByte(a, '.')+1:]
	if numericLabel(last) {
		return "", fmt.Errorf("%q ends in a numeric label, which resolvers may read as an address", s)
	}
	return a, nil
}

// numericLabel reports whether a label is a number in any base a resolver
// accepts in an address: decimal, octal, or hex with 0x.
func numericLabel(l string) bool {
	if strings.HasPrefix(l, "0x") {
		l = l[2:]
		return strings.Trim(l, "0123456789abcdef") == ""
	}
	return l != "" && strings.Trim(l, "0123456789") == ""
}
