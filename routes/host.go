package routes

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// maxHostLen is the longest DNS name, RFC 1035, without its trailing dot.
const maxHostLen = 253

// validHostPattern checks one entry of a virtual host's hosts: an exact DNS
// name, a "*.suffix" wildcard whose "*" is the whole first label, "*" alone
// for the default virtual host, or an IP address (IPv6 without brackets).
// Case does not matter. Ports are refused: the request's port is ignored, so
// a pattern with one could never mean what it says.
func validHostPattern(s string) error {
	switch {
	case s == "":
		return errors.New("host pattern is empty")
	case s == "*":
		return nil
	case len(s) > maxHostLen:
		return fmt.Errorf("host pattern %q is longer than %d characters", s, maxHostLen)
	case s[0] == '[':
		return fmt.Errorf("host pattern %q: write an IPv6 address without brackets", s)
	case strings.Contains(s, ":"):
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() && a.Zone() == "" {
			return nil
		}
		if strings.Count(s, ":") == 1 {
			return fmt.Errorf("host pattern %q: ports are not allowed, the request's port is ignored", s)
		}
		return fmt.Errorf("host pattern %q is not an IPv6 address", s)
	}
	name, wildcard := strings.CutPrefix(s, "*.")
	if strings.Contains(name, "*") {
		return fmt.Errorf("host pattern %q: * may only be the whole first label", s)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if err := validLabel(l); err != nil {
			return fmt.Errorf("host pattern %q: %w", s, err)
		}
	}
	// A name whose last label is numeric is an IPv4 address or nothing: no
	// top-level domain is all digits, and a wildcard over an address would
	// match addresses written in odd forms.
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		if a, err := netip.ParseAddr(name); wildcard || err != nil || !a.Is4() {
			return fmt.Errorf("host pattern %q is neither a DNS name nor an IPv4 address", s)
		}
	}
	return nil
}

// validLabel checks one DNS label as RFC 1123 writes host names.
func validLabel(l string) error {
	switch {
	case l == "":
		return errors.New("empty label")
	case len(l) > 63:
		return fmt.Errorf("label %q is longer than 63 characters", l)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("label %q starts or ends with a hyphen", l)
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !isAlnum(c) && c != '-' {
			return fmt.Errorf("label %q has %q: only letters, digits and hyphens are allowed", l, c)
		}
	}
	return nil
}

// buildTable makes the Table for compiled virtual hosts, names[i] being the
// valid host patterns of hosts[i]. A pattern listed twice keeps its first
// host; Load reports duplicates before this.
func buildTable(hosts []*Host, names [][]string, paths PathOptions) *Table {
	t := &Table{exact: make(map[string]*Host), paths: paths}
	seen := make(map[string]bool)
	for i, h := range hosts {
		for _, n := range names[i] {
			n = strings.ToLower(n)
			if a, err := netip.ParseAddr(n); err == nil {
				n = a.String() // the form lookup gives a request's address
			}
			if seen[n] {
				continue
			}
			seen[n] = true
			switch {
			case n == "*":
				t.fallback = h
			case strings.HasPrefix(n, "*."):
				t.wildcards = append(t.wildcards, wildcardHost{suffix: n[1:], host: h})
			default:
				t.exact[n] = h
			}
		}
	}
	// Longest suffix first, so the first wildcard that matches is the most
	// specific one.
	slices.SortStableFunc(t.wildcards, func(a, b wildcardHost) int {
		return cmp.Compare(len(b.suffix), len(a.suffix))
	})
	return t
}

// host finds the virtual host for a request's authority: host, host:port,
// [IPv6] or [IPv6]:port. The port is ignored, the name lower-cased and one
// trailing dot dropped. An exact name wins, then the wildcard with the longest
// suffix ("*.example.com" matches a.example.com and a.b.example.com but not
// example.com, as Envoy), then the "*" host.
//
// An authority that is empty or not a host name (a space, "@", "/", a bad
// port or bracket, bytes outside ASCII) finds no host at all, not even "*":
// the gateway answers 404 rather than forward a Host header that no
// virtual host was written for. Internationalised names arrive as punycode.
//
// It does not allocate.
func (t *Table) host(authority string) *Host {
	name, ip6, ok := splitAuthority(authority)
	if !ok {
		return nil
	}
	var buf [maxHostLen]byte
	var b []byte
	if ip6 {
		a, err := netip.ParseAddr(name)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return nil
		}
		b = a.AppendTo(buf[:0])
	} else {
		b = buf[:copy(buf[:], name)]
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
	}
	// The string(b) conversions below are compiled without a copy.
	if h := t.exact[string(b)]; h != nil {
		return h
	}
	for _, w := range t.wildcards {
		if len(b) > len(w.suffix) && string(b[len(b)-len(w.suffix):]) == w.suffix {
			return w.host
		}
	}
	return t.fallback
}

// splitAuthority returns the host name of an authority, without the port and
// one trailing dot, and whether it was a bracketed IPv6 address. ok is false
// when the authority is not a well-formed host and port.
func splitAuthority(a string) (name string, ip6, ok bool) {
	if a == "" {
		return "", false, false
	}
	if a[0] == '[' {
		end := strings.IndexByte(a, ']')
		if end < 0 || !validPort(a[end+1:]) {
			return "", false, false
		}
		return a[1:end], true, end > 1 && end-1 <= maxHostLen
	}
	name = a
	if i := strings.IndexByte(a, ':'); i >= 0 {
		name = a[:i]
		if !validPort(a[i:]) {
			return "", false, false
		}
	}
	name = strings.TrimSuffix(name, ".")
	return name, false, validHostName(name)
}

// validPort reports whether p is empty or ':' and at most five digits making
// a port number (RFC 3986 allows the digits to be absent).
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' || len(p) > 6 {
		return false
	}
	n := 0
	for i := 1; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// validHostName reports whether name may be matched against host patterns:
// letters, digits, '-' and '_' in non-empty labels (underscores are not in
// host names but do occur in real ones, and only wildcards or "*" can match
// them).
func validHostName(name string) bool {
	if name == "" || len(name) > maxHostLen {
		return false
	}
	prev := byte('.')
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if prev == '.' {
				return false
			}
		case !isAlnum(c) && c != '-' && c != '_':
			return false
		}
		prev = c
	}
	return prev != '.'
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
