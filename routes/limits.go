package routes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The bounds on one routes file, so that a file (or a reload of one) cannot
// exhaust the gateway's memory. yaml.v3 builds the whole document as a tree
// of nodes, about 185 bytes each, before anything can look at it, so the
// values are counted from the bytes first and the parser never sees a file
// past the bound.
const (
	// MaxFileBytes bounds a routes file's size. A file of 20,000 routes
	// takes about 2 MiB.
	MaxFileBytes = 16 << 20
	// MaxFileValues bounds the YAML values (mappings, lists, scalars) a
	// file may hold as written, as estimateValues counts them, which keeps
	// the parser's tree under about 200 MB. A route with a path match, two
	// methods, an upstream and a timeout counts about 21, so 20,000 such
	// routes fit twice over; one that adds a header match, retries and a
	// headers plugin counts about 74, so about 13,000 of those fit.
	MaxFileValues = 1_000_000
	// maxAliasValues bounds the values that aliases and merge keys add
	// when they are expanded: a few kilobytes of nested aliases ("billion
	// laughs") expand to billions. Values written out in full do not count.
	maxAliasValues = 100_000
)

// readFile reads a routes file of at most MaxFileBytes. A larger file is
// refused from its size, or after MaxFileBytes+1 bytes when its size is not
// known in advance (a pipe), never read whole.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	size := int64(0)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if size = fi.Size(); size > MaxFileBytes {
			return nil, errTooLarge(size)
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileBytes+1)); err != nil {
		return nil, unwrapPath(err)
	}
	if buf.Len() > MaxFileBytes {
		return nil, errTooLarge(-1)
	}
	return buf.Bytes(), nil
}

func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return fmt.Errorf("cannot read: %w", pe.Err)
	}
	return fmt.Errorf("cannot read: %w", err)
}

// errTooLarge says that a file is past MaxFileBytes; size is -1 when only
// that is known.
func errTooLarge(size int64) error {
	if size < 0 {
		return fmt.Errorf("the file is larger than %d bytes (16 MiB), the most a routes file may hold", MaxFileBytes)
	}
	return fmt.Errorf("the file is %d bytes, larger than %d (16 MiB), the most a routes file may hold", size, MaxFileBytes)
}

// estimateValues returns an upper bound on the nodes yaml.v3 makes of data,
// in one pass and without allocating: one for each run of plain characters
// (a scalar, an alias, a tag or a word of one), one for each flow indicator
// and for each "-", ":" and "?" that YAML reads as an indicator (but not
// for a ":" between a key and a value on its line), and one more for "?",
// whose key and value may both be empty. Every node is either written with
// a character of its own or is an empty value or a mapping that one of
// these indicators implies. FuzzEstimateValues checks the bound. Quotes and comments are not skipped: counting
// their words only raises the bound.
func estimateValues(data []byte) int {
	n, inWord := 2, false // the document node and its root
	for i, c := range data {
		next := byte(' ')
		if i+1 < len(data) {
			next = data[i+1]
		}
		switch {
		case isBlank(c):
			inWord = false
		case isFlow(c):
			n++
			inWord = false
		case (c == '-' || c == '?' || c == ':') && (isBlank(next) || c == ':' && isFlow(next)),
			c == ':' && i > 0 && (data[i-1] == '"' || data[i-1] == '\''):
			if c != ':' || !pairOnLine(data, i) {
				n++
			}
			if c == '?' {
				n++
			}
			inWord = false
		case !inWord:
			n++
			inWord = true
		}
	}
	return n
}

// pairOnLine reports whether the ":" at i has its key right before it and
// its value after it on the same line, as in "name: web": the key's and
// the value's words pay for both nodes and for an implicit mapping, so the
// ":" itself adds none. A ":" with no key or no value there may imply an
// empty one, and counts.
func pairOnLine(data []byte, i int) bool {
	if i == 0 || isBlank(data[i-1]) || isFlow(data[i-1]) {
		return false
	}
	j := i + 1
	for j < len(data) && (data[j] == ' ' || data[j] == '\t') {
		j++
	}
	if j == len(data) {
		return false
	}
	switch c := data[j]; {
	case isBlank(c), isFlow(c), c == '#':
		return false
	}
	return true
}

func isFlow(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }

// isBlank reports whether c is a space, a tab or a line break, or may start
// one of the line breaks YAML 1.1 adds (NEL, U+2028, U+2029): splitting a
// word at such a byte needlessly only raises the bound.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xC2 || c == 0xE2
}
