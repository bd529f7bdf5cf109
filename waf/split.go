package waf

import "strings"

// split cuts SecLang text into its directives as Coraza's parser reads it:
// blank lines and comments are skipped, a line ending in '\' goes on with
// the next one, and a line ending in '`' opens a block that a line starting
// with '`' closes. Each directive keeps its lines as written and the line it
// starts on, so that one Coraza refuses can be pointed at. The line is left
// zero for inline text of one line, whose field's position says it all.
func split(text, field, file string) []chunk {
	oneLine := file == "" && !strings.Contains(strings.TrimSpace(text), "\n")
	var out []chunk
	var cur []string
	start, inBackticks := 0, false
	emit := func() {
		c := chunk{text: strings.Join(cur, "\n"), field: field, file: file, line: start}
		if oneLine {
			c.line = 0
		}
		out = append(out, c)
		cur = nil
	}
	for i, raw := range strings.Split(text, "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if len(cur) == 0 {
			start = i + 1
		}
		cur = append(cur, raw)
		switch {
		case !inBackticks && strings.HasSuffix(line, "`"):
			inBackticks = true
		case inBackticks && line[0] == '`':
			inBackticks = false
		}
		if !inBackticks && !strings.HasSuffix(line, `\`) {
			emit()
		}
	}
	if len(cur) > 0 {
		// An open block or a continuation at the end: Coraza refuses the
		// first and drops the second, as it would in one piece.
		emit()
	}
	return out
}
