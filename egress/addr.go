package egress

import "net/netip"

// Address classes that Classify reports. Every class but ClassPublic is
// internal: the guard refuses it unless a rule names a CIDR inside it.
const (
	ClassPublic         = "public"
	ClassThisNetwork    = "this_network"    // 0.0.0.0/8, RFC 791
	ClassPrivate        = "private"         // RFC 1918
	ClassCGNAT          = "cgnat"           // 100.64.0.0/10, RFC 6598
	ClassLoopback       = "loopback"        // 127.0.0.0/8, ::1
	ClassLinkLocal      = "link_local"      // 169.254.0.0/16 (cloud metadata), fe80::/10
	ClassIETFProtocol   = "ietf_protocol"   // 192.0.0.0/24, 2001::/23 (less its named parts)
	ClassDocumentation  = "documentation"   // TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20
	ClassRelay6to4      = "6to4_relay"      // 192.88.99.0/24, RFC 7526
	ClassBenchmarking   = "benchmarking"    // 198.18.0.0/15, 2001:2::/48
	ClassAS112          = "as112"           // 192.31.196.0/24, 192.175.48.0/24, 2001:4:112::/48, 2620:4f:8000::/48
	ClassMulticast      = "multicast"       // 224.0.0.0/4, ff00::/8
	ClassReserved       = "reserved"        // 240.0.0.0/4; IPv6 outside 2000::/3 not named otherwise
	ClassBroadcast      = "broadcast"       // 255.255.255.255
	ClassUnspecified    = "unspecified"     // ::
	ClassDiscard        = "discard"         // 100::/64, RFC 6666
	ClassDummy          = "dummy"           // 100:0:0:1::/64, RFC 9780
	ClassULA            = "unique_local"    // fc00::/7
	ClassSiteLocal      = "site_local"      // fec0::/10, deprecated by RFC 3879
	ClassSegmentRouting = "segment_routing" // 5f00::/16, RFC 9602
	ClassORCHID         = "orchid"          // 2001:10::/28, 2001:20::/28
	ClassDRIP           = "drip"            // 2001:30::/28, RFC 9374
	ClassAMT            = "amt"             // 2001:3::/32, RFC 7450
	ClassIPv4Mapped     = "ipv4_mapped"     // ::ffff:0:0/96
	ClassIPv4Compatible = "ipv4_compatible" // ::/96, deprecated by RFC 4291
	ClassIPv4Translated = "ipv4_translated" // ::ffff:0:0:0/96, RFC 2765 (SIIT)
	ClassNAT64          = "nat64"           // 64:ff9b::/96 and 64:ff9b:1::/48
	Class6to4           = "6to4"            // 2002::/16
	ClassTeredo         = "teredo"          // 2001::/32
	ClassISATAP         = "isatap"          // interface identifier 0:5efe:a.b.c.d or 200:5efe:a.b.c.d
	ClassZone           = "zoned"           // an address with an IPv6 zone
	ClassInvalid        = "invalid"         // the zero netip.Addr
)

// special is one row of the table Classify walks: the first row whose prefix
// holds the address names its class, so narrower rows come first.
type special struct {
	prefix netip.Prefix
	class  string
}

// specials is drawn from the IANA IPv4 and IPv6 Special-Purpose Address
// Registries (RFC 6890 and the RFCs each row names), the IPv4 multicast and
// IPv6 address space registries, and the forms that embed an IPv4 address.
// Every row is refused, even those the registries mark globally reachable
// (the anycast services in 192.0.0.0/24 and 2001:1::/48, AS112): an egress
// proxy has no business with them unless a rule names them.
var specials = func() []special {
	rows := []struct{ cidr, class string }{
		// IPv4.
		{"0.0.0.0/8", ClassThisNetwork},
		{"10.0.0.0/8", ClassPrivate},
		{"100.64.0.0/10", ClassCGNAT},
		{"127.0.0.0/8", ClassLoopback},
		{"169.254.0.0/16", ClassLinkLocal},
		{"172.16.0.0/12", ClassPrivate},
		{"192.0.0.0/24", ClassIETFProtocol},
		{"192.0.2.0/24", ClassDocumentation},
		{"192.31.196.0/24", ClassAS112},
		{"192.52.193.0/24", ClassAMT},
		{"192.88.99.0/24", ClassRelay6to4},
		{"192.168.0.0/16", ClassPrivate},
		{"192.175.48.0/24", ClassAS112},
		{"198.18.0.0/15", ClassBenchmarking},
		{"198.51.100.0/24", ClassDocumentation},
		{"203.0.113.0/24", ClassDocumentation},
		{"224.0.0.0/4", ClassMulticast},
		{"255.255.255.255/32", ClassBroadcast},
		{"240.0.0.0/4", ClassReserved},

		// IPv6: the exact addresses and the forms that embed IPv4 first.
		{"::/128", ClassUnspecified},
		{"::1/128", ClassLoopback},
		{"::ffff:0:0/96", ClassIPv4Mapped},
		{"::ffff:0:0:0/96", ClassIPv4Translated},
		{"::/96", ClassIPv4Compatible},
		{"64:ff9b::/96", ClassNAT64},
		{"64:ff9b:1::/48", ClassNAT64},
		{"100::/64", ClassDiscard},
		{"100:0:0:1::/64", ClassDummy},
		{"2001::/32", ClassTeredo},
		{"2001:2::/48", ClassBenchmarking},
		{"2001:3::/32", ClassAMT},
		{"2001:4:112::/48", ClassAS112},
		{"2001:10::/28", ClassORCHID},
		{"2001:20::/28", ClassORCHID},
		{"2001:30::/28", ClassDRIP},
		{"2001::/23", ClassIETFProtocol},
		{"2001:db8::/32", ClassDocumentation},
		{"2002::/16", Class6to4},
		{"2620:4f:8000::/48", ClassAS112},
		{"3fff::/20", ClassDocumentation},
		{"5f00::/16", ClassSegmentRouting},
		{"fc00::/7", ClassULA},
		{"fe80::/10", ClassLinkLocal},
		{"fec0::/10", ClassSiteLocal},
		{"ff00::/8", ClassMulticast},
	}
	out := make([]special, len(rows))
	for i, r := range rows {
		out[i] = special{netip.MustParsePrefix(r.cidr), r.class}
	}
	return out
}()

// globalUnicast6 is the only IPv6 space IANA allocates for global unicast;
// everything outside it that no row names is reserved by the IETF.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// Classify names the class of addr and says whether it is internal, that
// is anything but an ordinary public unicast address. An IPv6 address that
// embeds an IPv4 address (mapped, compatible, translated, NAT64, 6to4,
// Teredo, ISATAP) is a class of its own and always internal, whatever the
// IPv4 address inside: a host may route it to the IPv4 address, so
// checking the IPv6 form alone would be a way round the IPv4 table. A zoned
// address is internal too, since a zone only makes sense on a local link.
func Classify(addr netip.Addr) (class string, internal bool) {
	class, _ = classify(addr)
	return class, class != ClassPublic
}

// classify is Classify with the range that matched, which the guard uses to
// tell whether an allowed CIDR lies inside it. For classes not defined by a
// prefix the range is the address itself widened to what fixes the class.
func classify(addr netip.Addr) (string, netip.Prefix) {
	if !addr.IsValid() {
		return ClassInvalid, netip.Prefix{}
	}
	if addr.Zone() != "" {
		return ClassZone, netip.PrefixFrom(addr.WithZone(""), addr.BitLen())
	}
	for _, s := range specials {
		if s.prefix.Contains(addr) {
			return s.class, s.prefix
		}
	}
	if addr.Is6() {
		if isISATAP(addr) {
			return ClassISATAP, netip.PrefixFrom(addr, 96).Masked()
		}
		if !globalUnicast6.Contains(addr) {
			return ClassReserved, netip.PrefixFrom(addr, 3).Masked()
		}
	}
	return ClassPublic, netip.Prefix{}
}

// isISATAP reports an interface identifier of the form RFC 5214 gives an
// ISATAP address, 0000:5efe or 0200:5efe followed by an IPv4 address.
func isISATAP(addr netip.Addr) bool {
	b := addr.As16()
	return (b[8] == 0x00 || b[8] == 0x02) && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe
}

// EmbeddedIPv4 returns the IPv4 address that an IPv6 address of an
// embedding class carries, for the log; ok is false for other addresses or
// where the position is not fixed (NAT64 local-use prefixes).
func EmbeddedIPv4(addr netip.Addr) (v4 netip.Addr, ok bool) {
	if !addr.Is6() {
		return netip.Addr{}, false
	}
	b := addr.WithZone("").As16()
	last := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	class, _ := classify(addr.WithZone(""))
	switch class {
	case ClassIPv4Mapped, ClassIPv4Compatible, ClassIPv4Translated, ClassISATAP:
		return last, true
	case ClassNAT64:
		if b[4] == 0 && b[5] == 0 { // 64:ff9b::/96; the /48 embeds by prefix length
			return last, true
		}
	case Class6to4:
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	case ClassTeredo: // RFC 4380: the client's address is stored inverted
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	}
	return netip.Addr{}, false
}
