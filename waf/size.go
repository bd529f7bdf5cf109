package waf

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Size is a byte count written as the routes file writes sizes: a number of
// bytes, or a number followed by KiB, MiB or GiB.
type Size int64

// binaryUnits are the suffixes Size takes, with their multipliers.
var binaryUnits = map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "B": 1, "": 1}

// UnmarshalText parses a size such as 512, 64KiB or 1MiB.
func (s *Size) UnmarshalText(text []byte) error {
	str := string(text)
	digits := strings.TrimRight(str, "KMGiB")
	mult, ok := binaryUnits[str[len(digits):]]
	n, err := strconv.ParseUint(digits, 10, 31)
	if !ok || err != nil {
		return fmt.Errorf("invalid size %q (want bytes such as 512, 64KiB or 1MiB)", str)
	}
	*s = Size(int64(n) * mult)
	return nil
}

// String writes the size in KiB or MiB when it is a whole number of them.
func (s Size) String() string {
	switch {
	case s != 0 && s%(1<<20) == 0:
		return strconv.FormatInt(int64(s)>>20, 10) + "MiB"
	case s != 0 && s%(1<<10) == 0:
		return strconv.FormatInt(int64(s)>>10, 10) + "KiB"
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalJSON writes the size as it reads back, "64KiB".
func (s Size) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
