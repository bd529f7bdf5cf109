package routes

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/portcullis-gw/portcullis/plugins"
)

// kinds names the objects that messages call by their name: an error inside
// one reads `route "api": …` rather than a path of list indexes.
var kinds = map[reflect.Type]string{
	reflect.TypeFor[Listener]():     "listener",
	reflect.TypeFor[VirtualHost]():  "virtual host",
	reflect.TypeFor[Route]():        "route",
	reflect.TypeFor[UpstreamSpec](): "upstream",
}

// label is how messages name an object: `listener "public"`, or where it
// sits (`listeners[0]`) when it has no name.
func label(kind, name, where string) string {
	if name == "" {
		return where
	}
	return kind + " " + strconv.Quote(name)
}

// structure fills a struct from a mapping by its fields' yaml tags.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, at loc) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, at, "expected %s, got %s", want(v.Type()), describe(n))
		return
	}
	if kind, ok := kinds[v.Type()]; ok && v.CanAddr() {
		at.obj = v.Addr().Interface()
		if name := nameOf(n); name != "" {
			at = loc{label: label(kind, name, ""), obj: at.obj}
		}
	}
	fields := fieldsOf(v.Type())
	top := v.Type() == reflect.TypeFor[File]()
	for _, e := range d.entries(n, at) {
		idx, ok := fields[e.key.Value]
		if !ok && top && strings.HasPrefix(e.key.Value, "x-") {
			// Top-level keys starting with x- are left for the file's
			// own use, as in Compose files: a place to put anchors.
			continue
		}
		if f, found := d.reg.Lookup(e.key.Value); !ok && top && found && f.Section != nil {
			// A plugin's own top-level block, such as the WAF's.
			d.section(e, f, v.Addr().Interface().(*File))
			continue
		}
		if !ok {
			d.errorf(e.key, at.keysOnly(), "unknown key %q%s", e.key.Value, didYouMean(e.key.Value, fields))
			continue
		}
		fat := at.key(e.key.Value)
		fat.secret = at.secret || v.Type().FieldByIndex(idx).Tag.Get(plugins.SecretTag) == "true"
		d.decodeEntry(e, v.FieldByIndex(idx), fat)
	}
}

// section decodes a plugin's top-level block (plugins.Factory.Section) into
// a new value of the plugin's own type, kept in File.Sections under the
// plugin's name; messages about it read `waf.profiles.api.mode: …`.
func (d *decoder) section(e entry, f plugins.Factory, file *File) {
	cfg := f.Section()
	rv := reflect.ValueOf(cfg)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		d.errorf(e.key, loc{}, "plugin %q makes its section as %T, not as a pointer", f.Name, cfg)
		return
	}
	if file.Sections == nil {
		file.Sections = make(Sections)
	}
	file.Sections[f.Name] = cfg
	d.pos[sectionKey(f.Name)] = e.key
	d.decodeEntry(e, rv.Elem(), loc{field: f.Name})
}

// sectionKey is the key under which the decoder records the position of a
// section's name: one value per name, of a type no decoded value has.
type sectionKey string

// didYouMean is ` (did you mean "balancer"?)` for a key that looks like a
// typo of one of fields, and "" otherwise.
func didYouMean(key string, fields map[string][]int) string {
	known := slices.Sorted(maps.Keys(fields))
	if s := Suggest(key, known); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// nameOf returns the scalar under the key "name" in mapping n, or "".
func nameOf(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.Value == "name" && v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null" {
			return v.Value
		}
	}
	return ""
}

// mapping fills a map with string keys from a mapping.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, at loc) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, at, "expected %s, got %s", want(v.Type()), describe(n))
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.errorf(n, at, "cannot decode into a map with %s keys", t.Key())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(n.Content)/2))
	}
	for _, e := range d.entries(n, at) {
		elem := reflect.New(t.Elem()).Elem()
		d.decodeEntry(e, elem, at.key(e.key.Value))
		v.SetMapIndex(reflect.ValueOf(e.key.Value).Convert(t.Key()), elem)
	}
}

// fieldCache maps a struct type to its fields by yaml key.
var fieldCache sync.Map // reflect.Type → map[string][]int

// fieldsOf returns the exported fields of struct type t by yaml key, as
// yaml.v3 names them: the tag's name, or the lower-cased field name, with
// ",inline" structs' fields lifted into t.
func fieldsOf(t reflect.Type) map[string][]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string][]int)
	}
	m := make(map[string][]int)
	collectFields(t, nil, m)
	fieldCache.Store(t, m)
	return m
}

func collectFields(t reflect.Type, prefix []int, m map[string][]int) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		idx := append(slices.Clone(prefix), i)
		if slices.Contains(strings.Split(opts, ","), "inline") && f.Type.Kind() == reflect.Struct {
			collectFields(f.Type, idx, m)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, taken := m[name]; !taken {
			m[name] = idx
		}
	}
}
