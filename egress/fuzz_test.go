package egress

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// hostSeeds are spellings the fuzz targets start from.
var hostSeeds = []string{
	"example.com", "EXAMPLE.com.", "bücher.de", "xn--bcher-kva.de", "127.1", "2130706433", "0x7f.1",
	"0177.0.0.1", "127.0.0.1.", "[::ffff:127.0.0.1]", "[fe80::1%eth0]", "::1", "１２７.０.０.１", "127。0。0。1",
	"0x", "foo.127", "010.0.0.1", "127.000.000.001", "127.0.0.1.nip.io", "[64:ff9b::7f00:1]", "169.254.43518", "0xa9fea9fe", "a..b",
}

// refIPv4 reads s the lenient way glibc's inet_aton and the URL Standard
// do, octal included, with strconv's base detection instead of the
// package's digit loop: what some client somewhere takes s to mean.
func refIPv4(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(s, ".")
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		var v uint64
		var ok bool
		switch {
		case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
			v, ok = parseUintBase(p[2:], 16)
		case strings.HasPrefix(p, "0"):
			v, ok = parseUintBase(p, 8)
		default:
			v, ok = parseUintBase(p, 10)
		}
		if !ok || p == "" {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var b [4]byte
	last := len(vals) - 1
	for i := range last {
		if vals[i] > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(vals[i])
	}
	if vals[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	var tail [8]byte
	binary.BigEndian.PutUint64(tail[:], vals[last])
	copy(b[last:], tail[8-(4-last):])
	return netip.AddrFrom4(b), true
}

// refDottedDecimal reads four decimal parts with leading zeros as decimal,
// as Go's net.ParseIP did before Go 1.17 and Python's ipaddress before 3.9.5.
func refDottedDecimal(s string) (netip.Addr, bool) {
	parts := strings.Split(strings.TrimSuffix(s, "."), ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		v, ok := parseUintBase(p, 10)
		if !ok || p == "" || v > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), true
}

func parseUintBase(s string, base uint64) (uint64, bool) {
	var v uint64
	for _, c := range []byte(s) {
		d := strings.IndexByte("0123456789abcdef", c|0x20)
		if d < 0 || uint64(d) >= base {
			return 0, false
		}
		v = v*base + uint64(d)
		if v > 1<<32 {
			return 0, false
		}
	}
	return v, true
}

// checkHost holds the invariants of one CanonicalHost result for input s.
func checkHost(t *testing.T, s string, h Host, err error) {
	t.Helper()
	if ref, ok := refIPv4(strings.ToLower(s)); ok {
		if _, internal := refClassify(ref); internal && err == nil && (!h.IsIP() || !isInternal(h.Addr())) {
			t.Fatalf("CanonicalHost(%q) = %q; a reader takes it for internal %s", s, h, ref)
		}
	}
	if ref, ok := refDottedDecimal(s); ok {
		if _, internal := refClassify(ref); internal && err == nil && (!h.IsIP() || !isInternal(h.Addr())) {
			t.Fatalf("CanonicalHost(%q) = %q; a decimal reader takes it for internal %s", s, h, ref)
		}
	}
	if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil && err == nil {
		a, _ := netip.AddrFromSlice(ip)
		if !strings.Contains(s, ":") {
			a = a.Unmap()
		}
		if _, internal := refClassify(a); internal && !isInternal(h.Addr()) {
			t.Fatalf("CanonicalHost(%q) = %q; net.ParseIP reads internal %s", s, h, a)
		}
	}
	if err != nil {
		return
	}
	again, err := CanonicalHost(h.String())
	if err != nil || again != h {
		t.Fatalf("CanonicalHost(%q) = %q, but it re-parses to %q, %v", s, h, again, err)
	}
	if !h.IsIP() {
		name := h.String()
		if _, ok := refIPv4(name); ok || net.ParseIP(name) != nil {
			t.Fatalf("CanonicalHost(%q) = name %q, which a resolver reads as an address", s, name)
		}
		if name != strings.ToLower(name) || strings.HasSuffix(name, ".") || len(name) > 253 {
			t.Fatalf("CanonicalHost(%q) = name %q, not canonical", s, name)
		}
	}
}

func isInternal(a netip.Addr) bool {
	_, internal := Classify(a)
	return internal
}

func FuzzCanonicalHost(f *testing.F) {
	for _, s := range hostSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := CanonicalHost(s)
		checkHost(t, s, h, err)
	})
}

func FuzzSplitAuthority(f *testing.F) {
	for _, s := range hostSeeds {
		f.Add(s + ":443")
	}
	f.Add("user@example.com:443")
	f.Add("[::1]:0443")
	f.Fuzz(func(t *testing.T, s string) {
		h, port, err := SplitAuthority(s)
		if err != nil {
			return
		}
		if port == 0 || strings.ContainsAny(s, "@% \\") {
			t.Fatalf("SplitAuthority(%q) = %q, %d; want an error", s, h, port)
		}
		hostText := s[:strings.LastIndexByte(s, ':')]
		checkHost(t, hostText, h, nil)
		h2, p2, err := SplitAuthority(h.Authority(port))
		if err != nil || h2 != h || p2 != port {
			t.Fatalf("SplitAuthority(%q) = %q, %d but %q gives %q, %d, %v", s, h, port, h.Authority(port), h2, p2, err)
		}
	})
}

func FuzzClassify(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1})
	f.Add([]byte{169, 254, 169, 254})
	f.Add(netip.MustParseAddr("64:ff9b::7f00:1").AsSlice())
	f.Add(netip.MustParseAddr("2a00:1450::5efe:7f00:1").AsSlice())
	f.Add(netip.MustParseAddr("2001:4860:4860::8888").AsSlice())
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		class, internal := Classify(addr)
		want, wantInternal := refClassify(addr)
		if class != want || internal != wantInternal {
			t.Fatalf("Classify(%s) = %s, %v; reference says %s, %v", addr, class, internal, want, wantInternal)
		}
	})
}

// FuzzParseAnswer feeds DNS messages from a hostile server to the answer
// parser: it must not panic, and every address it returns must come from a
// record of the type asked. (Which owner names count is shown by
// TestResolverAnswers' poisoned answer.)
func FuzzParseAnswer(f *testing.F) {
	srv := &dnsServer{names: map[string]*dnsName{
		"a.test.":     {addrs: []string{"192.0.2.1", "2001:db8::1"}, ttl: 60, extra: true},
		"alias.test.": {cname: "a.test", ttl: 30},
	}, asked: map[string]int{}}
	for _, name := range []string{"a.test.", "alias.test.", "missing.test."} {
		for _, qtype := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
			q := dnsmessage.Message{Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: qtype, Class: dnsmessage.ClassINET}}}
			for _, pkt := range srv.answer(pack(q), true) {
				f.Add(pkt)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var msg dnsmessage.Message
		if msg.Unpack(b) != nil || len(msg.Questions) != 1 {
			return
		}
		q := msg.Questions[0]
		if _, ok := matches(b, msg.ID, q); !ok && msg.Response {
			t.Fatalf("a response to its own question does not match it")
		}
		a, err := parseAnswer(&msg, q)
		if err != nil {
			return
		}
		for _, addr := range a.addrs {
			found := false
			for _, rr := range msg.Answers {
				switch body := rr.Body.(type) {
				case *dnsmessage.AResource:
					found = found || q.Type == dnsmessage.TypeA && netip.AddrFrom4(body.A) == addr
				case *dnsmessage.AAAAResource:
					found = found || q.Type == dnsmessage.TypeAAAA && netip.AddrFrom16(body.AAAA) == addr
				}
			}
			if !found {
				t.Fatalf("address %s is in no %s record of the answer", addr, q.Type)
			}
		}
	})
}
