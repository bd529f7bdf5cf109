package egress

import (
	"net/netip"
	"testing"
)

// TestClassify has a row for each range of the table: an address at each
// end, and the public neighbours just outside where there are some.
func TestClassify(t *testing.T) {
	tests := []struct {
		addr, class string
	}{
		{"0.0.0.0", ClassThisNetwork},
		{"0.255.255.255", ClassThisNetwork},
		{"1.0.0.0", ClassPublic},
		{"9.255.255.255", ClassPublic},
		{"10.0.0.0", ClassPrivate},
		{"10.255.255.255", ClassPrivate},
		{"11.0.0.0", ClassPublic},
		{"100.63.255.255", ClassPublic},
		{"100.64.0.0", ClassCGNAT},
		{"100.127.255.255", ClassCGNAT},
		{"100.128.0.0", ClassPublic},
		{"126.255.255.255", ClassPublic},
		{"127.0.0.0", ClassLoopback},
		{"127.0.0.1", ClassLoopback},
		{"127.255.255.255", ClassLoopback},
		{"128.0.0.0", ClassPublic},
		{"169.253.255.255", ClassPublic},
		{"169.254.0.0", ClassLinkLocal},
		{"169.254.169.254", ClassLinkLocal},
		{"169.254.255.255", ClassLinkLocal},
		{"169.255.0.0", ClassPublic},
		{"172.15.255.255", ClassPublic},
		{"172.16.0.0", ClassPrivate},
		{"172.31.255.255", ClassPrivate},
		{"172.32.0.0", ClassPublic},
		{"191.255.255.255", ClassPublic},
		{"192.0.0.0", ClassIETFProtocol},
		{"192.0.0.9", ClassIETFProtocol},
		{"192.0.0.171", ClassIETFProtocol},
		{"192.0.0.255", ClassIETFProtocol},
		{"192.0.1.0", ClassPublic},
		{"192.0.2.0", ClassDocumentation},
		{"192.0.2.255", ClassDocumentation},
		{"192.0.3.0", ClassPublic},
		{"192.31.196.0", ClassAS112},
		{"192.31.196.255", ClassAS112},
		{"192.52.193.0", ClassAMT},
		{"192.52.193.255", ClassAMT},
		{"192.88.99.0", ClassRelay6to4},
		{"192.88.99.255", ClassRelay6to4},
		{"192.167.255.255", ClassPublic},
		{"192.168.0.0", ClassPrivate},
		{"192.168.255.255", ClassPrivate},
		{"192.169.0.0", ClassPublic},
		{"192.175.48.0", ClassAS112},
		{"192.175.48.255", ClassAS112},
		{"198.17.255.255", ClassPublic},
		{"198.18.0.0", ClassBenchmarking},
		{"198.19.255.255", ClassBenchmarking},
		{"198.20.0.0", ClassPublic},
		{"198.51.100.0", ClassDocumentation},
		{"198.51.100.255", ClassDocumentation},
		{"203.0.113.0", ClassDocumentation},
		{"203.0.113.255", ClassDocumentation},
		{"223.255.255.255", ClassPublic},
		{"224.0.0.0", ClassMulticast},
		{"239.255.255.255", ClassMulticast},
		{"240.0.0.0", ClassReserved},
		{"255.255.255.254", ClassReserved},
		{"255.255.255.255", ClassBroadcast},

		{"::", ClassUnspecified},
		{"::1", ClassLoopback},
		{"::2", ClassIPv4Compatible},
		{"::127.0.0.1", ClassIPv4Compatible},
		{"::255.255.255.255", ClassIPv4Compatible},
		{"::1:0:0", ClassReserved},
		{"::ffff:0.0.0.0", ClassIPv4Mapped},
		{"::ffff:127.0.0.1", ClassIPv4Mapped},
		{"::ffff:8.8.8.8", ClassIPv4Mapped},
		{"::ffff:255.255.255.255", ClassIPv4Mapped},
		{"::ffff:0:0.0.0.0", ClassIPv4Translated},
		{"::ffff:0:255.255.255.255", ClassIPv4Translated},
		{"64:ff9b::", ClassNAT64},
		{"64:ff9b::7f00:1", ClassNAT64},
		{"64:ff9b::808:808", ClassNAT64},
		{"64:ff9b::ffff:ffff", ClassNAT64},
		{"64:ff9b::1:0:0", ClassReserved},
		{"64:ff9b:1::", ClassNAT64},
		{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", ClassNAT64},
		{"100::", ClassDiscard},
		{"100::ffff:ffff:ffff:ffff", ClassDiscard},
		{"100:0:0:1::", ClassDummy},
		{"100:0:0:1:ffff:ffff:ffff:ffff", ClassDummy},
		{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassReserved},
		{"2000::", ClassPublic},
		{"2001::", ClassTeredo},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", ClassTeredo},
		{"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", ClassTeredo},
		{"2001:1::1", ClassIETFProtocol},
		{"2001:1::3", ClassIETFProtocol},
		{"2001:2::", ClassBenchmarking},
		{"2001:2:0:ffff:ffff:ffff:ffff:ffff", ClassBenchmarking},
		{"2001:3::", ClassAMT},
		{"2001:3:ffff:ffff:ffff:ffff:ffff:ffff", ClassAMT},
		{"2001:4:112::", ClassAS112},
		{"2001:4:112:ffff:ffff:ffff:ffff:ffff", ClassAS112},
		{"2001:10::", ClassORCHID},
		{"2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", ClassORCHID},
		{"2001:20::", ClassORCHID},
		{"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", ClassORCHID},
		{"2001:30::", ClassDRIP},
		{"2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", ClassDRIP},
		{"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", ClassIETFProtocol},
		{"2001:200::", ClassPublic},
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", ClassPublic},
		{"2001:db8::", ClassDocumentation},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", ClassDocumentation},
		{"2001:db9::", ClassPublic},
		{"2001:4860:4860::8888", ClassPublic},
		{"2002::", Class6to4},
		{"2002:7f00:1::", Class6to4},
		{"2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Class6to4},
		{"2003::", ClassPublic},
		{"2620:4f:8000::", ClassAS112},
		{"2620:4f:8000:ffff:ffff:ffff:ffff:ffff", ClassAS112},
		{"2620:4f:8001::", ClassPublic},
		{"2a00:1450::5efe:7f00:1", ClassISATAP},
		{"2a00:1450::200:5efe:a00:1", ClassISATAP},
		{"2a00:1450::100:5efe:a00:1", ClassPublic},
		{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassPublic},
		{"3fff::", ClassDocumentation},
		{"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", ClassDocumentation},
		{"3fff:1000::", ClassPublic},
		{"4000::", ClassReserved},
		{"5f00::", ClassSegmentRouting},
		{"5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassSegmentRouting},
		{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassReserved},
		{"fc00::", ClassULA},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassULA},
		{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassReserved},
		{"fe80::", ClassLinkLocal},
		{"fe80::5efe:7f00:1", ClassLinkLocal},
		{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassLinkLocal},
		{"fec0::", ClassSiteLocal},
		{"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassSiteLocal},
		{"ff00::", ClassMulticast},
		{"ff02::2", ClassMulticast},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassMulticast},
		{"fe80::1%eth0", ClassZone},
		{"2001:4860:4860::8888%eth0", ClassZone},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			class, internal := Classify(netip.MustParseAddr(tt.addr))
			if class != tt.class || internal != (tt.class != ClassPublic) {
				t.Errorf("Classify(%s) = %s, %v; want %s, %v", tt.addr, class, internal, tt.class, tt.class != ClassPublic)
			}
		})
	}
	if class, internal := Classify(netip.Addr{}); class != ClassInvalid || !internal {
		t.Errorf("Classify(zero Addr) = %s, %v; want %s, true", class, internal, ClassInvalid)
	}
}

func TestEmbeddedIPv4(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"::ffff:169.254.169.254", "169.254.169.254"},
		{"::127.0.0.1", "127.0.0.1"},
		{"::ffff:0:10.0.0.1", "10.0.0.1"},
		{"64:ff9b::a9fe:a9fe", "169.254.169.254"},
		{"2002:a9fe:a9fe::1", "169.254.169.254"},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"}, // RFC 4380's example client
		{"2a00:1450::5efe:a00:1", "10.0.0.1"},
		{"64:ff9b:1::1", ""},
		{"2001:4860:4860::8888", ""},
		{"127.0.0.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got, ok := EmbeddedIPv4(netip.MustParseAddr(tt.addr))
			if tt.want == "" {
				if ok {
					t.Errorf("EmbeddedIPv4(%s) = %s, want none", tt.addr, got)
				}
				return
			}
			if !ok || got.String() != tt.want {
				t.Errorf("EmbeddedIPv4(%s) = %s, %v; want %s", tt.addr, got, ok, tt.want)
			}
		})
	}
}

// TestClassifyMatchesReference walks the edges of every block of the
// reference table, one address inside and one outside at each end.
func TestClassifyMatchesReference(t *testing.T) {
	for _, r := range refRanges {
		first, last := netip.AddrFrom16(r.first), netip.AddrFrom16(r.last)
		if isV4Range(r) {
			first, last = first.Unmap(), last.Unmap()
		}
		for _, a := range []netip.Addr{first, last, first.Prev(), last.Next()} {
			if !a.IsValid() {
				continue
			}
			class, internal := Classify(a)
			want, wantInternal := refClassify(a)
			if class != want || internal != wantInternal {
				t.Errorf("Classify(%s) = %s, %v; reference says %s, %v", a, class, internal, want, wantInternal)
			}
		}
	}
}
