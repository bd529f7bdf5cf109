package routes

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Load reads, validates and compiles the routes file at path, building each
// route's plugin chain through reg. Any problem is returned as Errors, every
// problem of the file at once, with File set to path as given.
func Load(path string, reg *plugins.Registry) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	return Parse(path, data, reg)
}

// Parse is Load for a file already read: name is its path, against whose
// directory relative paths in it are resolved. Top-level keys that start
// with x- are ignored, as in Compose files, to give anchors a home.
//
// A file past MaxFileBytes or MaxFileValues is refused before it is parsed.
//
// The stages run in order, each reporting every problem it finds: parse
// the YAML, decode it strictly, validate and fill in defaults, open the
// scopes of plugins with a section, build the plugin chains. Chains are built only from a file that decoded cleanly,
// and all of them are closed again if anything failed, so that a rejected
// file holds no resources.
func Parse(name string, data []byte, reg *plugins.Registry) (*Config, error) {
	rep := &report{file: name}
	if len(data) > MaxFileBytes {
		return nil, Errors{{File: name, Msg: errTooLarge(int64(len(data))).Error()}}
	}
	if n := estimateValues(data); n > MaxFileValues {
		return nil, Errors{{File: name, Msg: fmt.Sprintf(
			"the file holds up to %d YAML values (words and indicators), more than the %d a routes file may hold",
			n, MaxFileValues)}}
	}
	root := parseDocument(rep, data)
	if len(rep.errs) > 0 {
		return nil, rep.result()
	}
	dir, err := filepath.Abs(filepath.Dir(name))
	if err != nil {
		rep.add(nil, fmt.Sprintf("cannot resolve the file's directory: %v", err))
		return nil, rep.result()
	}
	f := new(File)
	d := newDecoder(rep, reg)
	d.dir = dir
	if root != nil {
		d.decode(root, reflect.ValueOf(f).Elem(), loc{})
	}
	if d.stopped {
		// Part of the file was never decoded; checking the rest would
		// report what is only missing.
		return nil, rep.result()
	}
	decoded := len(rep.errs) == 0
	c := &checker{
		rep: rep, pos: d.pos, failed: d.failed, muted: d.muted, dir: dir, f: f,
		upstreams: make(map[string]*UpstreamSpec),
		matches:   make(map[*Route]ruleMatch),
	}
	c.check()
	var chains map[*Route]*plugins.Chain
	if decoded {
		scopes := c.openScopes(reg)
		chains = c.buildChains(reg, scopes)
		closeScopes(scopes)
	}
	if len(rep.errs) > 0 {
		closeChains(chains)
		return nil, rep.result()
	}
	return compile(name, f, c, chains), nil
}

// parseDocument parses data as one YAML document and returns its top-level
// mapping, or nil for an empty file.
func parseDocument(rep *report, data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err != io.EOF {
			rep.errs = append(rep.errs, syntaxError(rep.file, data, err))
		}
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		// next has no position when the second document does not parse;
		// the error is then about the whole file.
		rep.add(&next, "the file holds more than one YAML document")
		return nil
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	switch {
	case root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null":
		return nil
	case root.Kind != yaml.MappingNode:
		rep.add(root, fmt.Sprintf("expected a mapping of sections (listeners, virtual_hosts, upstreams …), got %s", describe(deref(root))))
		return nil
	}
	return root
}
