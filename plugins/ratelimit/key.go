package ratelimit

import (
	"fmt"
	"hash/maphash"
	"net/netip"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/portcullis-gw/portcullis/plugins"
)

// kind is what a limit keys its buckets by.
type kind uint8

const (
	byAddr      kind = iota // the client's address
	byHeader                // one request header's value
	byRoute                 // nothing: the route has one bucket
	byPrincipal             // the caller's SPIFFE ID, else its address
)

// missing is the value that stands for an absent or empty header, so that
// every request without it shares one bucket.
const missing = "-"

// key identifies a bucket. Addresses are kept whole, so that two clients
// never share a bucket by accident; strings (header values, principals)
// are reduced to a seeded 64-bit hash, so that a client who sends long
// values cannot make each bucket cost more memory than the next. Two
// strings share a bucket only on a hash collision, which with a seed the
// client does not know is a chance of about one in 10^10 among 100,000
// keys, and then costs them no more than a shared limit.
type key struct {
	addr netip.Addr
	sum  uint64
}

// keyer derives a request's key.
type keyer struct {
	kind   kind
	header string // canonical header name, for byHeader
	prefix int    // IPv6 prefix length, for byAddr and byPrincipal
	seed   maphash.Seed
}

// parseKey reads the key setting: remote_ip, route, principal or
// header:<name>.
func parseKey(s string) (keyer, error) {
	switch s {
	case "remote_ip":
		return keyer{kind: byAddr}, nil
	case "route":
		return keyer{kind: byRoute}, nil
	case "principal":
		return keyer{kind: byPrincipal}, nil
	}
	name, ok := strings.CutPrefix(s, "header:")
	if !ok {
		return keyer{}, fmt.Errorf("unknown key %q: want remote_ip, route, principal or header:<name>", s)
	}
	if !httpguts.ValidHeaderFieldName(name) {
		return keyer{}, fmt.Errorf("header name %q is not a valid HTTP token", name)
	}
	return keyer{kind: byHeader, header: textproto.CanonicalMIMEHeaderKey(name)}, nil
}

// of returns req's key. It reads the header in place and hashes
// without copying, so it allocates nothing.
func (k *keyer) of(req *plugins.Request) key {
	switch k.kind {
	case byAddr:
		return key{addr: k.addr(req.Client)}
	case byHeader:
		v := missing
		if req.RequestView != nil {
			// The first value decides: a client who repeats the header
			// chooses its key no more than one who changes it.
			if first := req.Header().Get(k.header); first != "" {
				v = first
			}
		}
		return key{sum: maphash.String(k.seed, v)}
	case byPrincipal:
		if req.Identity != nil && req.Identity.SPIFFEID != "" {
			return key{sum: maphash.String(k.seed, req.Identity.SPIFFEID)}
		}
		// Callers without an identity are limited by address, as with
		// remote_ip: sharing one bucket would let one anonymous client
		// starve every other.
		return key{addr: k.addr(req.Client)}
	}
	return key{}
}

// addr normalises a client address: an IPv4-mapped IPv6 address is the IPv4
// client it stands for, and an IPv6 address is cut to the prefix.
func (k *keyer) addr(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() && k.prefix < 128 {
		if p, err := a.WithZone("").Prefix(k.prefix); err == nil {
			return p.Addr()
		}
	}
	return a
}
