package egress

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseAuthority reads a destination from host:port as a CONNECT names it,
// or from an absolute URL's authority with defaultPort when it has no port
// (0 requires one), in SplitAuthority's canonical form: every spelling of
// an address that readers agree on is normalised, any other refused, so
// that what the rules see is what is dialled.
func ParseAuthority(s string, defaultPort uint16) (Destination, error) {
	if strings.LastIndexByte(s, ':') <= strings.LastIndexByte(s, ']') {
		if defaultPort == 0 {
			return Destination{}, fmt.Errorf("authority %q: no port: %w", s, ErrInvalidHost)
		}
		s += ":" + strconv.Itoa(int(defaultPort))
	}
	h, port, err := SplitAuthority(s)
	if err != nil {
		return Destination{}, err
	}
	d := Destination{Port: port}
	if h.IsIP() {
		d.Addr = h.Addr()
	} else {
		d.Host = h.Name()
	}
	return d, nil
}
