package load

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Seq is the placeholder that varies an HTTP/1.1 load's requests: every
// Seq in the URL's query, the header values and the body is replaced,
// request by request, by a number of ten digits that no other request of
// the run has, so that no cache in front of the work (a verdict cache, a
// WAF's memo of values it inspected) can stand in for doing it. The width
// is fixed, so Content-Length does not change, and the number has no
// leading zero, so it is a valid JSON number too.
const Seq = "{seq}"

const (
	seqDigits = 10
	// seqBase is the first number; numbers wrap before they would grow an
	// eleventh digit.
	seqBase = 1_000_000_000
)

// slots returns b with every Seq replaced by ten digits, and where each
// replacement starts, for fillSeq to overwrite request by request.
func slots(b []byte) ([]byte, []int) {
	var out []byte
	var at []int
	for {
		i := bytes.Index(b, []byte(Seq))
		if i < 0 {
			return append(out, b...), at
		}
		out = append(out, b[:i]...)
		at = append(at, len(out))
		out = append(out, make([]byte, seqDigits)...)
		b = b[i+len(Seq):]
	}
}

// fillSeq writes request n's number at each slot of b.
func fillSeq(b []byte, at []int, n uint64) {
	var d [seqDigits]byte
	v := seqBase + n%(9*seqBase)
	for i := seqDigits - 1; i >= 0; i-- {
		d[i] = '0' + byte(v%10)
		v /= 10
	}
	for _, a := range at {
		copy(b[a:a+seqDigits], d[:])
	}
}

// Expand returns s as request n of a run sends it: every Seq replaced by
// n's number. The harness checks a server with the requests the load
// sends.
func Expand(s string, n uint64) string {
	b, at := slots([]byte(s))
	fillSeq(b, at, n)
	return string(b)
}

// checkHeader checks one "Name: value" line of Config.Header: a token for
// the name, a value without control characters, and none of the framing
// headers the load generator writes itself.
func checkHeader(line string) error {
	name, value, ok := strings.Cut(line, ":")
	switch {
	case !ok || !httpguts.ValidHeaderFieldName(name):
		return fmt.Errorf("header %q: want Name: value", line)
	case !httpguts.ValidHeaderFieldValue(strings.TrimSpace(value)):
		return fmt.Errorf("header %q: the value holds a control character", line)
	}
	switch strings.ToLower(name) {
	case "host", "content-length", "transfer-encoding", "connection":
		return fmt.Errorf("header %q: the load generator writes %s itself", line, name)
	}
	return nil
}

// hasHeader says whether lines set the named header.
func hasHeader(lines []string, name string) bool {
	for _, l := range lines {
		if n, _, _ := strings.Cut(l, ":"); strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// headerValue returns the value a line sets, trimmed.
func headerValue(line string) (string, string) {
	n, v, _ := strings.Cut(line, ":")
	return n, strings.TrimSpace(v)
}
