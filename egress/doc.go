// Package egress is the gateway's way out: the canonical form of a
// destination host, the address guard that refuses internal and special
// addresses, a DNS client with its own cache, and a dialer that resolves a
// name once, checks every address and dials exactly the address it checked.
//
// A destination as asked is parsed into a Host (CanonicalHost,
// SplitAuthority) so that rules compare one spelling of each name and
// every odd spelling of an IP address is either normalised or refused; the
// rules decide on that Host; then the Dialer resolves the name with its
// Resolver and its Guard checks each address against Classify's table of
// special-purpose ranges, the CIDRs the deciding rule names, and the
// gateway's own listeners. One refused address refuses the destination,
// and a refusal opens no socket.
//
// On that ground stands the forward proxy (Proxy): a Policy compiled from
// the routes file's egress block decides which callers (by SPIFFE
// principal, namespace or address) may reach which destinations, deny
// rules first; a Limiter bounds tunnels by caller and by destination; and
// the proxy carries CONNECT tunnels, whose ClientHello it checks on TLS
// ports before dialling, and absolute-form HTTP requests, whose method and
// normalised path the rules see, with TLS originated where a rule says.
package egress
