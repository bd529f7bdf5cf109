package routes

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MarshalJSON writes an endpoint of weight 1 (or unset) as its address
// alone, the way the file usually writes it, so that /config shows the
// endpoints as they were written.
func (e Endpoint) MarshalJSON() ([]byte, error) {
	if e.Weight <= 1 {
		return json.Marshal(e.Address)
	}
	type plain Endpoint // without this method
	return json.Marshal(plain(e))
}

// UnmarshalText parses a status code ("204") or an inclusive range
// ("200-399"), each code 100 to 599.
func (r *StatusRange) UnmarshalText(text []byte) error {
	s := string(text)
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	first, err1 := parseStatus(lo)
	last, err2 := parseStatus(hi)
	switch {
	case err1 != nil || err2 != nil:
		return fmt.Errorf("invalid status %q (want a code such as 200 or a range such as 200-399)", s)
	case first > last:
		return fmt.Errorf("invalid status range %q: %d is above %d", s, first, last)
	}
	*r = StatusRange{Min: first, Max: last}
	return nil
}

// parseStatus reads a three-digit status code from 100 to 599.
func parseStatus(s string) (int, error) {
	if len(s) != 3 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("invalid status %q", s)
	}
	n, _ := strconv.Atoi(s)
	if n < 100 || n > 599 {
		return 0, fmt.Errorf("invalid status %q", s)
	}
	return n, nil
}

// String writes the range as it reads back: "204" or "200-399".
func (r StatusRange) String() string {
	if r.Min == r.Max {
		return strconv.Itoa(r.Min)
	}
	return strconv.Itoa(r.Min) + "-" + strconv.Itoa(r.Max)
}

// MarshalJSON writes the range as a string that reads back.
func (r StatusRange) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// Contains reports whether code is in the range.
func (r StatusRange) Contains(code int) bool { return r.Min <= code && code <= r.Max }
