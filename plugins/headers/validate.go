package headers

import (
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/portcullis-gw/portcullis/plugins"
)

// forbidden maps the canonical names the plugin refuses to touch to the
// reason, which the error repeats so the operator learns what to do instead.
var forbidden = func() map[string]string {
	const hop = "it is hop-by-hop: it describes one connection, and the gateway manages it on each hop itself"
	m := map[string]string{
		"Host": "it chose the virtual host this route belongs to, and the gateway forwards the request's own host; " +
			"use the route's host_rewrite",
		"Content-Length": "it frames the message body, and a value that disagrees with the body desynchronises " +
			"the connection (request smuggling); the gateway sets it from the body",
	}
	for _, n := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade",
		"TE", "Trailer", "Proxy-Authenticate", "Proxy-Authorization"} {
		m[textproto.CanonicalMIMEHeaderKey(n)] = hop
	}
	return m
}()

// compile checks one side's ops and turns them into edits with canonical
// names and prebuilt values. side is "request" or "response", the first part
// of every FieldError's field. All problems are reported, in a stable order.
func compile(side string, o *Ops) (edits, error) {
	var e edits
	var errs []error
	fail := func(op, format string, args ...any) {
		errs = append(errs, &plugins.FieldError{Field: side + "." + op, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[[2]string]bool{} // {set, add or remove; canonical name} already listed
	name := func(op, raw string) (string, bool) {
		if !httpguts.ValidHeaderFieldName(raw) {
			fail(op, "header name %q is not a valid HTTP token", raw)
			return "", false
		}
		n := textproto.CanonicalMIMEHeaderKey(raw)
		// transfer_encoding is Transfer-Encoding to a backend that reads
		// '_' as '-': every spelling of a forbidden name is forbidden.
		if why, bad := forbidden[textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(n, "_", "-"))]; bad {
			fail(op, "header %q cannot be edited: %s", raw, why)
			return "", false
		}
		kind, _, _ := strings.Cut(op, "[")
		if seen[[2]string{kind, n}] {
			fail(op, "header %q is listed twice (names are case-insensitive)", raw)
			return "", false
		}
		seen[[2]string{kind, n}] = true
		return n, true
	}
	value := func(op, raw, v string) bool {
		if !httpguts.ValidHeaderFieldValue(v) {
			// The value itself is not quoted: it is secret, and the error
			// reaches logs and the admin API's reload status.
			fail(op, "header %q: value holds a control character other than tab at byte %d: "+
				"a CR or LF would end the header and start an injected one", raw, badByte(v))
			return false
		}
		return true
	}

	for i, raw := range o.Remove {
		// The index lets the routes file point at the entry's own line; set
		// and add cannot do the same with their keys, since a header name
		// may hold the dot that separates the parts of a field's path.
		if n, ok := name(fmt.Sprintf("remove[%d]", i), raw); ok {
			e.remove = append(e.remove, n)
		}
	}
	for _, raw := range slices.Sorted(maps.Keys(o.Set)) {
		n, ok := name("set", raw)
		if ok && value("set", raw, o.Set[raw]) {
			if seen[[2]string{"remove", n}] {
				fail("set", "header %q is also removed: set already replaces its values", raw)
				continue
			}
			e.set = append(e.set, field{name: n, values: single(o.Set[raw])})
		}
	}
	for _, raw := range slices.Sorted(maps.Keys(o.Add)) {
		n, ok := name("add", raw)
		if ok && value("add", raw, o.Add[raw]) {
			e.add = append(e.add, field{name: n, values: single(o.Add[raw])})
		}
	}
	return e, errors.Join(errs...)
}

// single returns a one-value slice whose length equals its capacity. The
// slice is shared by every request's header map, so anyone who appends to it
// must get a copy: with no spare capacity, append cannot write into the
// shared backing array.
func single(v string) []string { return []string{v}[:1:1] }

// badByte returns the offset of the first byte of v that a header value may
// not hold, or -1.
func badByte(v string) int {
	for i := range len(v) {
		if !httpguts.ValidHeaderFieldValue(v[i : i+1]) {
			return i
		}
	}
	return -1
}
