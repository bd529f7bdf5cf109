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
// (UTS #46 non-transitional, the Bidi and joiner rules, STD3 ASCII, DNS
// lengths), the profile egress.CanonicalHost reads destinations with, so
// that a rule's host and a destination have the same canonical form (a
// test in package egress holds the two to it). Hyphens are checked as
// browsers do, at a label's ends only: UTS #46 CheckHyphens would refuse
// names in use such as r3---sn-xyz.googlevideo.com.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.VerifyDNSLength(true),
	idna.CheckHyphens(false),
	idna.CheckJoiners(true),
)

// aLabelProfile decodes A-labels without mapping.
var aLabelProfile = idna.New()

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
	for label := range strings.SplitSeq(a, ".") {
		if err := checkLabel(label); err != nil {
			return "", fmt.Errorf("%q: %w", s, err)
		}
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

// checkLabel refuses a label that starts or ends with a hyphen, and an
// A-label that is not the one encoding of a Unicode label, so that one
// name has one spelling.
func checkLabel(label string) error {
	if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
		return fmt.Errorf("label %q starts or ends with a hyphen", label)
	}
	if !strings.HasPrefix(label, "xn--") {
		return nil
	}
	u, err := aLabelProfile.ToUnicode(label)
	if err != nil {
		return fmt.Errorf("label %q: %w", label, err)
	}
	if back, err := hostProfile.ToASCII(u); err != nil || back != label || u == label {
		return fmt.Errorf("A-label %q is not the encoding of a Unicode label", label)
	}
	return nil
}
