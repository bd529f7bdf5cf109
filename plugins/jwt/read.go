package jwt

import (
	"errors"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Kind is the kind of the documents this package reads.
const Kind = "RequestAuthentication"

// Read returns the RequestAuthentication documents of one policy file of
// multi-document YAML, as Istio writes them (security.istio.io/v1 or
// v1beta1), each with its spec as the lines it has in the file, so that
// Compile's errors name the file's own lines. Documents of other kinds are
// left to the plugins that read them. A document without a namespace is in
// "default", as kubectl puts it.
func Read(file string, data []byte) ([]Document, error) {
	tree, err := parser.ParseBytes(data, 0)
	if err != nil {
		f := &specFile{doc: &Document{File: file, Line: 1, Name: "?", Namespace: "?"}}
		f.yamlError(err)
		return nil, errors.Join(f.errs...)
	}
	lines := strings.SplitAfter(string(data), "\n")
	var docs []Document
	var errs []error
	for _, d := range tree.Docs {
		vals := mappingValues(d.Body)
		fields := map[string]int{}
		for i, v := range vals {
			fields[v.Key.GetToken().Value] = i
		}
		if i, ok := fields["kind"]; !ok || scalar(vals[i].Value) != Kind {
			continue
		}
		doc := Document{File: file, Line: vals[0].Key.GetToken().Position.Line}
		var meta struct {
			Name      string `yaml:"name"`
			Namespace string `yaml:"namespace"`
		}
		if i, ok := fields["metadata"]; ok {
			yaml.NodeToValue(vals[i].Value, &meta) // a wrong type leaves the name empty: reported below
		}
		doc.Name, doc.Namespace = meta.Name, meta.Namespace
		if doc.Namespace == "" {
			doc.Namespace = "default"
		}
		fail := func(v *ast.MappingValueNode, msg string) {
			p := v.Key.GetToken().Position
			errs = append(errs, &Error{File: file, Line: p.Line, Column: p.Column, Document: doc.Namespace + "/" + doc.Name, Msg: msg})
		}
		if i, ok := fields["apiVersion"]; !ok {
			fail(vals[0], "apiVersion must be security.istio.io/v1 or security.istio.io/v1beta1")
		} else if api := scalar(vals[i].Value); api != "security.istio.io/v1" && api != "security.istio.io/v1beta1" {
			fail(vals[i], "apiVersion must be security.istio.io/v1 or security.istio.io/v1beta1, got "+api)
		}
		if doc.Name == "" {
			fail(vals[0], "metadata.name is required")
		}
		if i, ok := fields["spec"]; ok {
			doc.Line, doc.Spec = specLines(lines, vals, i)
		}
		docs = append(docs, doc)
	}
	return docs, errors.Join(errs...)
}

// mappingValues returns the key-value pairs of a document's top mapping.
func mappingValues(n ast.Node) []*ast.MappingValueNode {
	switch b := n.(type) {
	case *ast.MappingNode:
		return b.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{b}
	}
	return nil
}

// scalar returns a scalar node's text, or "" for any other node.
func scalar(n ast.Node) string {
	if s, ok := n.(ast.ScalarNode); ok {
		if v, ok := s.GetValue().(string); ok {
			return v
		}
	}
	return ""
}

// specLines returns the file line on which the spec's key stands and the
// spec's text: its lines up to the document's next key or end, with the
// key itself blanked so that every value keeps its line and column.
func specLines(lines []string, vals []*ast.MappingValueNode, i int) (int, []byte) {
	v := vals[i]
	start := v.Key.GetToken().Position.Line
	end := len(lines) // the last line taken, 1-based
	if i+1 < len(vals) {
		end = vals[i+1].Key.GetToken().Position.Line - 1
	}
	if end < start || v.Start == nil || v.Start.Position.Line != start {
		// The spec shares its line with another key: a document written
		// all in flow style. Its text is taken as it prints.
		return v.Value.GetToken().Position.Line, []byte(v.Value.String())
	}
	var b strings.Builder
	for n := start; n <= end && n <= len(lines); n++ {
		line := lines[n-1]
		if n > start && (strings.HasPrefix(line, "---") || strings.HasPrefix(line, "...")) {
			break // the document ends
		}
		if n == start {
			col := v.Start.Position.Column // the ':' after spec
			line = strings.Repeat(" ", col) + line[min(col, len(line)):]
		}
		b.WriteString(line)
	}
	return start, []byte(b.String())
}
