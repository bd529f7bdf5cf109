package routes

import "go.yaml.in/yaml/v3"

// entry is one key and its value in a mapping.
type entry struct {
	key, value *yaml.Node
	// alias says that an alias brought the entry in (a "<<" merge of
	// one), so that decoding its value counts as expanding the alias.
	alias bool
}

// deref follows an alias to its anchor. Anchors are never aliases
// themselves, so one step is enough.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// entries returns the keys of mapping n in file order, with the keys of "<<"
// merges after them. A key written twice is an error (yaml.v3 only checks
// that when it decodes into Go values itself); a key written once overrides
// a merged one, and an earlier merge overrides a later one, as YAML's merge
// key says.
func (d *decoder) entries(n *yaml.Node, at loc) []entry {
	var out []entry
	var merges []*yaml.Node
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		// Keys count against maxAliasValues too: merges of aliases can
		// copy a mapping's keys many times over without decoding a value.
		if !d.count(n.Content[i]) {
			return out
		}
		k, v := deref(n.Content[i]), n.Content[i+1]
		switch {
		case k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge":
			merges = append(merges, v)
		case k.Kind != yaml.ScalarNode:
			d.errorf(k, at, "expected a string key, got %s", describe(k))
		case seen[k.Value] != nil:
			d.errorf(k, at.keysOnly(), "duplicate key %q (first at line %d)", k.Value, seen[k.Value].Line)
		default:
			seen[k.Value] = k
			out = append(out, entry{key: k, value: v, alias: d.aliased > 0})
		}
	}
	for _, m := range merges {
		out = d.merge(m, at, seen, out)
	}
	return out
}

// merge appends the entries of the "<<" value m whose keys are not in seen.
func (d *decoder) merge(m *yaml.Node, at loc, seen map[string]*yaml.Node, out []entry) []entry {
	if !d.count(m) {
		return out
	}
	if m.Kind == yaml.AliasNode {
		d.aliased++
		defer func() { d.aliased-- }()
	}
	src := deref(m)
	switch src.Kind {
	case yaml.MappingNode:
		if d.expanding[src] {
			d.errorf(m, at, "<< merges a mapping into itself")
			return out
		}
		d.expanding[src] = true
		defer delete(d.expanding, src)
		for _, e := range d.entries(src, at) {
			if seen[e.key.Value] == nil {
				seen[e.key.Value] = e.key
				out = append(out, e)
			}
		}
	case yaml.SequenceNode:
		for _, c := range src.Content {
			if deref(c).Kind != yaml.MappingNode {
				d.errorf(c, at, "<< expects a mapping or a list of mappings, got %s", describe(deref(c)))
				continue
			}
			out = d.merge(c, at, seen, out)
		}
	default:
		d.errorf(m, at, "<< expects a mapping or a list of mappings, got %s", describe(src))
	}
	return out
}
