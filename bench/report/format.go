package report

import (
	"fmt"
	"math"
	"strconv"
)

// us formats a latency given in microseconds with a unit that keeps three
// significant digits.
func us(v float64) string {
	switch {
	case v == 0:
		return "–"
	case v < 1000:
		return fmt.Sprintf("%.0f µs", v)
	case v < 1e6:
		return fmt.Sprintf("%.3g ms", v/1e3)
	}
	return fmt.Sprintf("%.3g s", v/1e6)
}

// count formats a whole number with thin-space thousands separators, the
// way a reader scans a column of rates.
func count(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// times formats a ratio; zero means there was nothing to compare with.
func times(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v)
}

// spread formats a range and its width, flagged when too wide to conclude.
func spread(s Spread) string {
	out := fmt.Sprintf("%s–%s (%.0f%%)", count(s.Min), count(s.Max), s.Pct)
	if s.Wide {
		out += " ⚠"
	}
	return out
}

// mib formats a byte count in MiB; zero means it was not measured.
func mib(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", v)
}
