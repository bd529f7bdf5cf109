package harness

import (
	"strconv"
	"strings"
)

// cpuCount counts the CPUs in a taskset list such as "1" or "0-3,6"; a list
// it cannot read counts as one CPU, the conservative worker count.
func cpuCount(list string) int {
	n := 0
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 1
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 1
			}
		}
		n += b - a + 1
	}
	return max(n, 1)
}
