// Package accesslogtest holds what tests of the access log share: reading a
// text line back into its fields, as a log reader does.
package accesslogtest

import "strings"

// SplitFields splits a text access-log line (its final newline is ignored)
// into fields as a reader of Envoy's lines does: runs without spaces, or
// quoted runs, each followed by one space or the end. ok is false for a line
// that does not split so, such as one with an unclosed quote or two spaces
// in a row.
func SplitFields(line string) (fields []string, ok bool) {
	line = strings.TrimSuffix(line, "\n")
	for i := 0; i < len(line); {
		start := i
		if line[i] == '"' {
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return fields, false
			}
			i += j + 2
		} else if j := strings.IndexByte(line[i:], ' '); j >= 0 {
			i += j
		} else {
			i = len(line)
		}
		if i == start {
			return fields, false // an empty field: Envoy prints "-" for no value
		}
		fields = append(fields, line[start:i])
		if i < len(line) {
			if line[i] != ' ' || i+1 == len(line) {
				return fields, false
			}
			i++
		}
	}
	return fields, true
}
