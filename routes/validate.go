package routes

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/portcullis-gw/portcullis/routes/identity"
)

// checker validates a decoded File, fills in its defaults and reports every
// problem at the position the decoder recorded for the value at fault.
type checker struct {
	rep *report
	pos map[any]*yaml.Node
	// failed and muted are the decoder's: values that did not decode and
	// the objects that hold them.
	failed, muted map[any]bool
	dir           string // the routes file's directory, absolute
	f             *File
	// upstreams are the upstreams by name, for routes to refer to.
	upstreams map[string]*UpstreamSpec
	// matches are the compiled matches of the routes that passed.
	matches map[*Route]ruleMatch
	// identity is the identity block's, built from its files, or nil.
	identity *identity.Identity
	// policyFiles are the files the policies globs name, resolved.
	policyFiles []string
}

// scope is one object under validation: messages start with its label and
// point at its position when the field at fault was not written.
type scope struct {
	c     *checker
	label string
	obj   any
}

func (c *checker) scope(label string, obj any) scope { return scope{c, label, obj} }

// errorf reports a problem with the field that ptr points to in the File,
// or with the whole object when ptr is the object. A field that did not
// decode has been reported already, as has an object with such a field:
// checks of the object as a whole (is one of these set?) would only
// repeat that.
func (s scope) errorf(ptr any, format string, args ...any) {
	if s.c.failed[ptr] || ptr == s.obj && s.c.muted[s.obj] {
		return
	}
	n := s.c.pos[ptr]
	if n == nil {
		n = s.c.pos[s.obj]
	}
	s.errorAt(n, fmt.Sprintf(format, args...))
}

// errorAt reports msg at n.
func (s scope) errorAt(n *yaml.Node, msg string) {
	s.c.rep.add(n, join(s.label, msg))
}

// oneOf checks an enumerated string, filling in the default (the first of
// allowed) when it was left out.
func (s scope) oneOf(field string, v *string, allowed ...string) {
	switch {
	case *v == "":
		*v = allowed[0]
	case !slices.Contains(allowed, *v):
		s.errorf(v, "%s: unknown value %q (want %s)", field, *v, strings.Join(allowed, ", "))
	}
}

// abs resolves a path from the routes file against the file's directory,
// so that the gateway reads the same file whatever its working directory.
func (c *checker) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// check validates the whole file, fills in its defaults and compiles each
// route's match.
func (c *checker) check() {
	root := c.scope("", nil)
	c.checkAdmin(root)
	c.checkAccessLog(root)
	c.checkServerHeader(root, "server_header", &c.f.ServerHeader, defaultServerHeader)
	c.checkWorkload()      // before the upstreams, which use its cluster domain
	c.checkIdentityBlock() // before the listeners, which present and verify with it
	c.checkMesh()          // after the identity, whose trust domains it takes
	root.oneOf("path_normalization.escaped_slashes", &c.f.Paths.EscapedSlashes, "keep", "reject", "unescape")
	c.checkListeners()
	c.checkUpstreams()
	c.checkExtensionProviders() // after the upstreams, which they name
	c.checkVirtualHosts()
	c.checkEgress()
}

func (c *checker) checkAdmin(root scope) {
	a := &c.f.Admin
	switch a.Address {
	case "":
		a.Address = "127.0.0.1:9901"
	case "off":
	default:
		if _, _, err := listenAddress(a.Address); err != nil {
			root.errorf(&a.Address, "admin.address: %v", err)
		}
	}
}

func (c *checker) checkAccessLog(root scope) {
	al := &c.f.AccessLog
	root.oneOf("access_log.format", &al.Format, "envoy", "istio", "istio-legacy", "json")
	if al.Text != "" && al.Format == "json" {
		root.errorf(&al.Text, "access_log.text: cannot be used with format json")
	}
	switch al.Path {
	case "":
		al.Path = "stdout"
	case "stdout", "stderr", "off":
	default:
		written := al.Path
		al.Path = c.abs(al.Path)
		if fi, err := os.Stat(filepath.Dir(al.Path)); err != nil || !fi.IsDir() {
			root.errorf(&al.Path, "access_log.path: the directory of %q does not exist", written)
		}
	}
}
