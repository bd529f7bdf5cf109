package routes

import (
	"cmp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// report collects the problems of one routes file, so that every stage can
// go on after a problem and the user sees all of them at once.
type report struct {
	file string
	errs Errors
}

// add records msg at n's position; a nil n is a problem with the whole file.
func (r *report) add(n *yaml.Node, msg string) {
	e := &Error{File: r.file, Msg: msg}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	r.errs = append(r.errs, e)
}

// result returns the problems in file order, each once: a virtual host's
// plugin is built for each of its routes and may fail the same way for each.
func (r *report) result() Errors {
	seen := make(map[Error]bool, len(r.errs))
	var es Errors
	for _, e := range r.errs {
		if !seen[*e] {
			seen[*e] = true
			es = append(es, e)
		}
	}
	// The routes file's problems come first, then those of the files it
	// names (policies), each file's in file order.
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(boolCompare(a.File != r.file, b.File != r.file), strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return es
}

// join joins the non-empty parts of a message with ": ", so that an object
// with no label or a field at an object's top level leaves no empty part.
func join(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(p)
	}
	return b.String()
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
