package routes

import (
	"encoding"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/portcullis-gw/portcullis/plugins"
)

// decoder fills Go values from a yaml.Node tree strictly: unknown keys,
// duplicate keys, wrong kinds and bad scalars are all reported, each at its
// line and column, and decoding goes on so that every problem is found in
// one pass. yaml.v3's own Decode stops at the first type error and forgets
// positions, which is why the tree is walked here.
type decoder struct {
	rep *report
	reg *plugins.Registry
	// pos maps a pointer to each decoded value (a *string for a field, a
	// *Listener for an object) to the node it came from, so that later
	// checks can point at the value they reject. Pointers of different types
	// may share an address, but the key's type tells them apart.
	pos map[any]*yaml.Node
	// failed holds the values that did not decode, and muted the labelled
	// objects (listeners, virtual hosts, routes, upstreams) holding one.
	// Validation says nothing more about either, so that a mistyped field
	// does not also show up as a missing one.
	failed, muted map[any]bool
	// expanding holds the anchors being expanded, to catch an alias inside
	// its own anchor.
	expanding map[*yaml.Node]bool
	// aliased is how many aliases (or merges of one) the walk is inside,
	// and expanded counts the values decoded while it is above zero: those
	// are the copies aliases make, bounded by maxAliasValues. A value
	// written out in the file is decoded at most once and is already
	// bounded by MaxFileValues.
	aliased, expanded int
	stopped           bool
	// dir is the routes file's directory, absolute, against which a
	// plugins.FilePath is resolved.
	dir string
}

func newDecoder(rep *report, reg *plugins.Registry) *decoder {
	return &decoder{
		rep:       rep,
		reg:       reg,
		pos:       make(map[any]*yaml.Node),
		failed:    make(map[any]bool),
		muted:     make(map[any]bool),
		expanding: make(map[*yaml.Node]bool),
	}
}

// loc is where a value sits, for messages: the labelled object it belongs
// to and the field path inside that object.
type loc struct {
	label string // `route "api"`; empty at the top level
	field string // `tls.certificates[0].cert`, relative to the object
	obj   any    // pointer to the labelled object, or nil at the top level
	// secret says that the value is beneath a field tagged secret
	// (plugins.SecretTag): messages about it never quote it.
	secret bool
}

func (l loc) key(k string) loc {
	if l.field != "" {
		k = l.field + "." + k
	}
	l.field = k
	return l
}

// keysOnly is l for a message that quotes a key, never a value: keys are
// names (of fields, of headers) even beneath a secret field.
func (l loc) keysOnly() loc {
	l.secret = false
	return l
}

func (l loc) index(i int) loc {
	l.field += "[" + strconv.Itoa(i) + "]"
	return l
}

// errorf reports a problem with the value at n and mutes the object it
// belongs to.
func (d *decoder) errorf(n *yaml.Node, at loc, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if at.secret && n.Kind == yaml.ScalarNode {
		// Messages about a scalar quote it, and they reach logs and the
		// admin API's reload status; those about a mapping or a list
		// name only its kind.
		msg = "not a valid value here (it is not shown: the field is secret)"
	}
	d.rep.add(n, join(at.label, at.field, msg))
	if at.obj != nil {
		d.muted[at.obj] = true
	}
}

// count counts n against maxAliasValues when an alias brought it, and
// reports whether decoding may go on.
func (d *decoder) count(n *yaml.Node) bool {
	if d.stopped {
		return false
	}
	if d.aliased == 0 {
		return true
	}
	if d.expanded++; d.expanded > maxAliasValues {
		d.stopped = true
		d.rep.add(n, fmt.Sprintf("more than %d values once aliases are expanded", maxAliasValues))
		return false
	}
	return true
}

// decodeEntry decodes a mapping entry's value, as a copy when a merge of an
// alias brought the entry in.
func (d *decoder) decodeEntry(e entry, v reflect.Value, at loc) {
	if e.alias {
		d.aliased++
		defer func() { d.aliased-- }()
	}
	d.decode(e.value, v, at)
}

// decode fills v from n, following an alias to its anchor.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, at loc) {
	if !d.count(n) {
		return
	}
	if before := len(d.rep.errs); v.CanAddr() {
		defer func() {
			if len(d.rep.errs) > before {
				d.failed[v.Addr().Interface()] = true
			}
		}()
	}
	if n.Kind == yaml.AliasNode {
		if d.expanding[n.Alias] {
			d.errorf(n, at, "alias *%s is used inside its own anchor", n.Value)
			return
		}
		d.expanding[n.Alias] = true
		d.aliased++
		d.decode(n.Alias, v, at)
		d.aliased--
		delete(d.expanding, n.Alias)
		return
	}
	d.value(n, v, at)
}

var (
	durationType     = reflect.TypeFor[time.Duration]()
	pluginConfigType = reflect.TypeFor[PluginConfig]()
	filePathType     = reflect.TypeFor[plugins.FilePath]()
	endpointType     = reflect.TypeFor[Endpoint]()
	unmarshalerType  = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value fills v from n, which is not an alias. A null leaves v as it is, so
// that an empty key keeps the default a plugin's Config set.
func (d *decoder) value(n *yaml.Node, v reflect.Value, at loc) {
	if v.CanAddr() {
		d.pos[v.Addr().Interface()] = n
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	switch t := v.Type(); {
	case t == pluginConfigType:
		d.plugin(n, v, at)
		return
	case t == filePathType:
		d.filePath(n, v, at)
		return
	case t == endpointType && n.Kind == yaml.ScalarNode:
		// An endpoint is written "host:port" or as a mapping with a
		// weight; the short form fills the address alone.
		d.value(n, v.Field(0), at)
		return
	case t == durationType && v.CanAddr():
		d.text(n, (*Duration)(v.Addr().Interface().(*time.Duration)), at)
		return
	case v.CanAddr() && reflect.PointerTo(t).Implements(unmarshalerType):
		d.text(n, v.Addr().Interface().(encoding.TextUnmarshaler), at)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), at)
	case reflect.Struct:
		d.structure(n, v, at)
	case reflect.Slice:
		d.list(n, v, at)
	case reflect.Map:
		d.mapping(n, v, at)
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		d.scalar(n, v, at)
	default:
		d.errorf(n, at, "cannot decode into a field of type %s", v.Type())
	}
}

// filePath fills a plugins.FilePath, resolving a relative path against the
// routes file's directory as checker.abs does for the file's own paths.
func (d *decoder) filePath(n *yaml.Node, v reflect.Value, at loc) {
	d.scalar(n, v, at)
	if p := v.String(); p != "" && !filepath.IsAbs(p) && d.dir != "" {
		v.SetString(filepath.Join(d.dir, p))
	}
}

// text fills a value that parses itself from a string (Duration, Size, CIDR,
// netip.Prefix in a plugin's config …).
func (d *decoder) text(n *yaml.Node, u encoding.TextUnmarshaler, at loc) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, at, "expected %s, got %s", want(reflect.TypeOf(u).Elem()), describe(n))
		return
	}
	if err := u.UnmarshalText([]byte(n.Value)); err != nil {
		d.errorf(n, at, "%v", err)
	}
}

// list fills a slice from a sequence, replacing any default.
func (d *decoder) list(n *yaml.Node, v reflect.Value, at loc) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, at, "expected %s, got %s", want(v.Type()), describe(n))
		return
	}
	// The slice is set before its elements are filled so that the
	// positions recorded for them point into the final backing array.
	v.Set(reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content)))
	for i, c := range n.Content {
		d.decode(c, v.Index(i), at.index(i))
	}
}
