package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// Host is a destination host in canonical form: either a DNS name in lower
// case A-labels without a trailing dot, or an IP address. The zero Host is
// invalid.
type Host struct {
	name string
	addr netip.Addr
}

// IsIP reports whether the host is an IP literal.
func (h Host) IsIP() bool { return h.addr.IsValid() }

// Addr returns the address of an IP literal, the zero Addr for a name.
func (h Host) Addr() netip.Addr { return h.addr }

// Name returns the canonical name, or the address in its canonical text for
// an IP literal; CanonicalHost gives the same Host back for it.
func (h Host) Name() string {
	if h.addr.IsValid() {
		return h.addr.String()
	}
	return h.name
}

// String is Name.
func (h Host) String() string { return h.Name() }

// Authority returns host:port as a CONNECT request or Host header writes it,
// an IPv6 literal in brackets.
func (h Host) Authority(port uint16) string {
	if h.addr.IsValid() {
		return netip.AddrPortFrom(h.addr, port).String()
	}
	return fmt.Sprintf("%s:%d", h.name, port)
}

// ErrInvalidHost is wrapped by every refusal of CanonicalHost and
// SplitAuthority.
var ErrInvalidHost = errors.New("invalid host")

// maxHostInput bounds the text CanonicalHost reads, well above the 253
// octets of the longest name so that an IDN's Unicode form still fits.
const maxHostInput = 1024

// lookupProfile is IDNA's lookup profile (RFC 5891 section 5, UTS #46
// non-transitional mapping, the Bidi and joiner rules, STD3 ASCII) with
// DNS lengths verified. Hyphen positions are checked as browsers do (see
// checkLDH), not by UTS #46 CheckHyphens, which refuses names in common use
// such as r3---sn-xyz.googlevideo.com.
var lookupProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.VerifyDNSLength(true),
	idna.CheckHyphens(false),
	idna.CheckJoiners(true),
)

// punycodeProfile decodes A-labels without mapping, to check that each one
// is the canonical encoding of a non-ASCII label.
var punycodeProfile = idna.New()

// CanonicalHost parses the host of a CONNECT authority or of an absolute
// URL (with or without IPv6 brackets) into its canonical form.
//
// A name is mapped to lower case A-labels by IDNA's lookup profile, its
// one trailing dot dropped; an invalid label, an empty label, a label that
// starts or ends with a hyphen and an A-label that is not the canonical
// encoding of a Unicode label are refused.
//
// A name whose last label is a number (all digits, or 0x and hex digits,
// after IDNA mapping, which turns full-width digits and ideographic full
// stops into ASCII) is an IPv4 address as the URL Standard's host parser
// and the C library's inet_aton read it, never a name to resolve: it is
// normalised when every such reader agrees on its value, shorthand
// (127.1), one number (2130706433) and hex parts (0x7f.1) included, and
// refused otherwise: a part with a leading zero (0177.0.0.1, octal to
// inet_aton and browsers but decimal to other parsers), a part out of
// range, more than four parts, an empty hex part or a non-numeric part
// (foo.127). See parseIPv4Number.
//
// An IPv6 literal is parsed by netip; a zone (%eth0) is refused, since it
// names an interface of the gateway, and so is IPv4 inside brackets.
func CanonicalHost(s string) (Host, error) {
	if s == "" {
		return Host{}, fmt.Errorf("empty host: %w", ErrInvalidHost)
	}
	if len(s) > maxHostInput {
		return Host{}, fmt.Errorf("host of %d bytes: %w", len(s), ErrInvalidHost)
	}
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return Host{}, fmt.Errorf("host %q: unclosed bracket: %w", s, ErrInvalidHost)
		}
		return parseIPv6(s, s[1:len(s)-1])
	}
	if strings.Contains(s, ":") {
		return parseIPv6(s, s)
	}
	if strings.ContainsAny(s, "%[]") {
		return Host{}, fmt.Errorf("host %q: %w", s, ErrInvalidHost)
	}
	mapped, err := lookupProfile.ToASCII(s)
	if err != nil && mapped == "" {
		return Host{}, fmt.Errorf("host %q: %w: %w", s, ErrInvalidHost, err)
	}
	// The numeric test runs on the mapped text, as the URL Standard's does,
	// and before the IDNA error counts, so that a numeric host is judged as
	// an address even where IDNA refuses it as a name (a hex part longer
	// than a DNS label, an empty part) and its error says which part.
	name := strings.TrimSuffix(mapped, ".")
	if endsInNumber(name) {
		addr, perr := parseIPv4Number(name)
		if perr != nil {
			return Host{}, fmt.Errorf("host %q: %w: %w", s, ErrInvalidHost, perr)
		}
		return Host{addr: addr}, nil
	}
	if err != nil {
		return Host{}, fmt.Errorf("host %q: %w: %w", s, ErrInvalidHost, err)
	}
	if name == "" || strings.HasSuffix(name, ".") {
		return Host{}, fmt.Errorf("host %q: empty label: %w", s, ErrInvalidHost)
	}
	if err := checkLabels(name); err != nil {
		return Host{}, fmt.Errorf("host %q: %w: %w", s, ErrInvalidHost, err)
	}
	return Host{name: name}, nil
}

// parseIPv6 parses an IPv6 literal, the raw host text s kept for errors.
func parseIPv6(s, inner string) (Host, error) {
	if strings.Contains(inner, "%") {
		return Host{}, fmt.Errorf("host %q: zone or percent-encoding in an IPv6 literal: %w", s, ErrInvalidHost)
	}
	addr, err := netip.ParseAddr(inner)
	if err != nil || !addr.Is6() {
		return Host{}, fmt.Errorf("host %q: not an IPv6 address: %w", s, ErrInvalidHost)
	}
	return Host{addr: addr}, nil
}

// checkLabels applies the rules the IDNA profile leaves out: no label
// starts or ends with a hyphen (RFC 952's LDH rule, kept by browsers), and
// an A-label decodes to a label that re-encodes to itself and is not plain
// ASCII, so that one name has one spelling ("xn--example-" is refused).
func checkLabels(name string) error {
	for label := range strings.SplitSeq(name, ".") {
		if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("label %q starts or ends with a hyphen", label)
		}
		if !strings.HasPrefix(label, "xn--") {
			continue
		}
		u, err := punycodeProfile.ToUnicode(label)
		if err != nil {
			return fmt.Errorf("label %q: %w", label, err)
		}
		if isASCII(u) {
			return fmt.Errorf("A-label %q encodes an ASCII label", label)
		}
		back, err := lookupProfile.ToASCII(u)
		if err != nil || back != label {
			return fmt.Errorf("A-label %q is not the canonical encoding of %q", label, u)
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
