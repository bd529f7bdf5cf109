// Package egress is the gateway's way out: the canonical form of a
// destination host and the address guard that refuses internal and special
// addresses.
//
// A destination as asked is parsed into a Host (CanonicalHost,
// SplitAuthority) so that rules compare one spelling of each name and
// every odd spelling of an IP address is either normalised or refused; the
// rules decide on that Host; then each address the gateway would dial is
// checked by a Guard against Classify's table of special-purpose ranges,
// the CIDRs the deciding rule names, and the gateway's own listeners.
package egress
