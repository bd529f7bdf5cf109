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
package egress
