package egress_test

import (
	"fmt"
	"net/netip"

	"github.com/portcullis-gw/portcullis/egress"
)

func ExampleSplitAuthority() {
	for _, authority := range []string{"API.Example.com.:443", "0x7f.1:8080", "[::ffff:169.254.169.254]:80", "0177.0.0.1:80", "user@example.com:443"} {
		host, port, err := egress.SplitAuthority(authority)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(host, port, host.IsIP())
	}
	// Output:
	// api.example.com 443 false
	// 127.0.0.1 8080 true
	// ::ffff:169.254.169.254 80 true
	// authority "0177.0.0.1:80": host "0177.0.0.1": invalid host: IPv4 part "0177": leading zero: octal to some readers, decimal to others
	// authority "user@example.com:443": byte '@' not allowed: invalid host
}

func ExampleGuard_Check() {
	guard := egress.NewGuard([]netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:3128")})
	allowed := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
	for _, s := range []string{"93.184.215.14", "10.1.2.3", "10.2.0.1", "64:ff9b::a9fe:a9fe", "127.0.0.1"} {
		reason, ok := guard.Check(netip.MustParseAddr(s), 3128, allowed)
		fmt.Println(s, ok, reason)
	}
	// Output:
	// 93.184.215.14 true public
	// 10.1.2.3 true private allowed by 10.1.0.0/16
	// 10.2.0.1 false private address in 10.0.0.0/8
	// 64:ff9b::a9fe:a9fe false nat64 address in 64:ff9b::/96 embedding 169.254.169.254
	// 127.0.0.1 false the gateway's own listener 0.0.0.0:3128
}
