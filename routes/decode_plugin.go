package routes

import (
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// plugin fills one entry of a plugins list, a one-key mapping from the
// plugin's name to its block. The block is decoded into the value the
// plugin's factory makes, with the same strictness as the rest of the file,
// and messages about it read `route "api": plugins[1] rate_limit: …`.
func (d *decoder) plugin(n *yaml.Node, v reflect.Value, at loc) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		d.errorf(n, at, "expected a one-key mapping such as {headers: {…}}, got %s", describe(n))
		return
	}
	k, block := deref(n.Content[0]), n.Content[1]
	if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
		d.errorf(k, at, "expected a plugin name, got %s", describe(k))
		return
	}
	pc := v.Addr().Interface().(*PluginConfig)
	pc.Name = k.Value
	d.pos[&pc.Name] = k
	f, ok := d.reg.Lookup(pc.Name)
	if !ok {
		known := "none are registered"
		if names := d.reg.Names(); len(names) > 0 {
			known = "known: " + strings.Join(names, ", ")
		}
		d.errorf(k, at, "unknown plugin %q (%s)", pc.Name, known)
		return
	}
	cfg := f.Config()
	rv := reflect.ValueOf(cfg)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		d.errorf(k, at, "plugin %q makes its config as %T, not as a pointer", pc.Name, cfg)
		return
	}
	pc.Config = cfg
	d.pos[&pc.Config] = block
	d.decode(block, rv.Elem(), loc{label: join(at.label, at.field+" "+pc.Name), obj: at.obj})
}

// fieldNode finds the node of a field from the dotted path that a
// *plugins.FieldError or a *fieldError names ("request.set",
// "headers[1].regex"), starting at a block (a plugin's, a route's match).
// It stops at the deepest node it can find, so that an error about a field
// that was left out points at the block that lacks it; with no block
// written it returns fallback.
func fieldNode(block *yaml.Node, path string, fallback *yaml.Node) *yaml.Node {
	if block == nil {
		return fallback
	}
	n := deref(block)
	if path == "" {
		return n
	}
	for part := range strings.SplitSeq(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			next := lookupKey(n, key)
			if next == nil {
				return n
			}
			n = next
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
				return n
			}
			n = deref(n.Content[i])
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return n
}

// lookupKey returns the value under key in mapping n; keys that only a "<<"
// merge brings in are not searched, and the caller falls back to n.
func lookupKey(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}
