package egress

import (
	"bytes"
	"net/netip"
)

// refRange is a block of the IANA registries written as its first and last
// address, the way the registries' own tables give it, rather than as a
// prefix.
type refRange struct {
	first, last [16]byte
	class       string
}

// refRanges is written independently of the package's table: the same
// registries (IPv4 and IPv6 special-purpose, IPv4 multicast, IPv6 address
// space) read again, block by block.
var refRanges = func() []refRange {
	rows := [][3]string{
		{"0.0.0.0", "0.255.255.255", ClassThisNetwork},
		{"10.0.0.0", "10.255.255.255", ClassPrivate},
		{"100.64.0.0", "100.127.255.255", ClassCGNAT},
		{"127.0.0.0", "127.255.255.255", ClassLoopback},
		{"169.254.0.0", "169.254.255.255", ClassLinkLocal},
		{"172.16.0.0", "172.31.255.255", ClassPrivate},
		{"192.0.0.0", "192.0.0.255", ClassIETFProtocol},
		{"192.0.2.0", "192.0.2.255", ClassDocumentation},
		{"192.31.196.0", "192.31.196.255", ClassAS112},
		{"192.52.193.0", "192.52.193.255", ClassAMT},
		{"192.88.99.0", "192.88.99.255", ClassRelay6to4},
		{"192.168.0.0", "192.168.255.255", ClassPrivate},
		{"192.175.48.0", "192.175.48.255", ClassAS112},
		{"198.18.0.0", "198.19.255.255", ClassBenchmarking},
		{"198.51.100.0", "198.51.100.255", ClassDocumentation},
		{"203.0.113.0", "203.0.113.255", ClassDocumentation},
		{"224.0.0.0", "239.255.255.255", ClassMulticast},
		{"240.0.0.0", "255.255.255.254", ClassReserved},
		{"255.255.255.255", "255.255.255.255", ClassBroadcast},
		{"::", "::", ClassUnspecified},
		{"::1", "::1", ClassLoopback},
		{"::2", "::ffff:ffff", ClassIPv4Compatible},
		{"::ffff:0.0.0.0", "::ffff:255.255.255.255", ClassIPv4Mapped},
		{"::ffff:0:0.0.0.0", "::ffff:0:255.255.255.255", ClassIPv4Translated},
		{"64:ff9b::", "64:ff9b::ffff:ffff", ClassNAT64},
		{"64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", ClassNAT64},
		{"100::", "100::ffff:ffff:ffff:ffff", ClassDiscard},
		{"100:0:0:1::", "100:0:0:1:ffff:ffff:ffff:ffff", ClassDummy},
		{"2001::", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", ClassTeredo},
		{"2001:1::", "2001:1:ffff:ffff:ffff:ffff:ffff:ffff", ClassIETFProtocol},
		{"2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff", ClassBenchmarking},
		{"2001:2:1::", "2001:2:ffff:ffff:ffff:ffff:ffff:ffff", ClassIETFProtocol},
		{"2001:3::", "2001:3:ffff:ffff:ffff:ffff:ffff:ffff", ClassAMT},
		{"2001:4::", "2001:4:111:ffff:ffff:ffff:ffff:ffff", ClassIETFProtocol},
		{"2001:4:112::", "2001:4:112:ffff:ffff:ffff:ffff:ffff", ClassAS112},
		{"2001:4:113::", "2001:f:ffff:ffff:ffff:ffff:ffff:ffff", ClassIETFProtocol},
		{"2001:10::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", ClassORCHID},
		{"2001:30::", "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", ClassDRIP},
		{"2001:40::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", ClassIETFProtocol},
		{"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", ClassDocumentation},
		{"2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Class6to4},
		{"2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff", ClassAS112},
		{"3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", ClassDocumentation},
		{"5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassSegmentRouting},
		{"fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassULA},
		{"fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassLinkLocal},
		{"fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassSiteLocal},
		{"ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassMulticast},
	}
	out := make([]refRange, len(rows))
	for i, r := range rows {
		out[i] = refRange{netip.MustParseAddr(r[0]).As16(), netip.MustParseAddr(r[1]).As16(), r[2]}
	}
	return out
}()

// refClassify compares bytes against refRanges, IPv4 as its mapped form
// kept apart by a flag, then looks at the interface identifier for ISATAP
// and at the first three bits for space outside global unicast.
func refClassify(addr netip.Addr) (string, bool) {
	if !addr.IsValid() {
		return ClassInvalid, true
	}
	if addr.Zone() != "" {
		return ClassZone, true
	}
	b := addr.As16()
	v4 := addr.Is4()
	for _, r := range refRanges {
		if isV4Range(r) != v4 {
			continue
		}
		if bytes.Compare(b[:], r.first[:]) >= 0 && bytes.Compare(b[:], r.last[:]) <= 0 {
			return r.class, true
		}
	}
	if v4 {
		return ClassPublic, false
	}
	if b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe && b[8]&^0x02 == 0 {
		return ClassISATAP, true
	}
	if b[0]>>5 != 1 {
		return ClassReserved, true
	}
	return ClassPublic, false
}

// isV4Range reports a row written as IPv4 (stored in its mapped form).
func isV4Range(r refRange) bool {
	return netip.AddrFrom16(r.first).Is4In6() && r.class != ClassIPv4Mapped
}
