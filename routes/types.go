package routes

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// UnmarshalText parses a Go duration string such as "1.5s" or "500ms". A
// negative duration is an error: every duration in the routes file is a
// timeout or an interval, and a negative one would mean "already expired".
func (d *Duration) UnmarshalText(text []byte) error {
	s := string(text)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", s)
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	*d = Duration(v)
	return nil
}

// String returns the duration as Go writes it, "1m30s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string that reads back, "5s", so the
// admin API shows what the routes file says rather than nanoseconds.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// sizeUnits are the suffixes Size accepts, longest first so that "KiB" is
// not read as "B" after a number "64Ki".
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"B", 1},
}

// UnmarshalText parses a byte count: digits, then optionally one of B, KiB,
// MiB, GiB (powers of 1024) or KB, MB, GB (powers of 1000). Signs, fractions,
// spaces and counts past the int64 range are errors, so a typo cannot turn a
// limit into something else.
func (s *Size) UnmarshalText(text []byte) error {
	str := string(text)
	num, mult := str, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(str, u.suffix) {
			num, mult = strings.TrimSuffix(str, u.suffix), u.mult
			break
		}
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return fmt.Errorf("invalid size %q (want a byte count such as 512, 64KiB or 1MB)", str)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return fmt.Errorf("invalid size %q: too large", str)
	}
	*s = Size(n * mult)
	return nil
}

// String returns the size in the largest unit that divides it exactly,
// preferring powers of 1024: 65536 is "64KiB", 1000000 is "1MB", 1500 is
// "1500".
func (s Size) String() string {
	if s == 0 {
		return "0"
	}
	for _, group := range [][]int{{2, 1, 0}, {5, 4, 3}} {
		for _, i := range group {
			if u := sizeUnits[i]; int64(s)%u.mult == 0 {
				return strconv.FormatInt(int64(s)/u.mult, 10) + u.suffix
			}
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalJSON writes the size as a string that reads back, "64KiB".
func (s Size) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalText parses an IP prefix such as "10.0.0.0/8". A bare address
// means that one host (/32 or /128). Host bits are masked off, so
// "10.1.2.3/8" is stored as 10.0.0.0/8, the form every comparison expects.
// Zoned IPv6 addresses are errors: a zone names an interface of one machine
// and means nothing in a peer's address.
func (c *CIDR) UnmarshalText(text []byte) error {
	s := string(text)
	var p netip.Prefix
	if strings.Contains(s, "/") {
		v, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("invalid CIDR %q", s)
		}
		p = v
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("invalid CIDR %q", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	*c = CIDR(p.Masked())
	return nil
}

// Prefix returns the prefix as a netip.Prefix.
func (c CIDR) Prefix() netip.Prefix { return netip.Prefix(c) }

// String returns the prefix in its canonical form, "10.0.0.0/8".
func (c CIDR) String() string { return netip.Prefix(c).String() }

// MarshalJSON writes the prefix as a string, "10.0.0.0/8".
func (c CIDR) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }
