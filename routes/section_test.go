package routes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// shelfSection is the section of the test plugin "shelf": named shared
// values that routes pick by name, as WAF profiles are.
type shelfSection struct {
	Items map[string]shelfItem `yaml:"items"`
	File  plugins.FilePath     `yaml:"file"`
}

type shelfItem struct {
	Size int `yaml:"size"`
}

// shelves counts the scopes the shelf plugin opens and closes.
type shelves struct {
	mu             sync.Mutex
	opened, closed int
	sections       []*shelfSection
}

// shelfScope builds handlers that name one of its items.
type shelfScope struct {
	s       *shelves
	section *shelfSection
}

func (sc *shelfScope) Build(cfg any) (plugins.Handler, error) {
	name := *cfg.(*string)
	if _, ok := sc.section.Items[name]; !ok {
		return nil, fmt.Errorf("no item %q", name)
	}
	return &handler{name: "shelf", cfg: sc.section.Items[name]}, nil
}

func (sc *shelfScope) Close() error {
	sc.s.mu.Lock()
	defer sc.s.mu.Unlock()
	sc.s.closed++
	return nil
}

// factory returns the shelf plugin: its section defaults to one item,
// "default", and Open refuses an item of size 0 or below.
func (s *shelves) factory(*tracker) plugins.Factory {
	return plugins.Factory{
		Name:   "shelf",
		Config: func() any { name := "default"; return &name },
		Section: func() any {
			return &shelfSection{Items: map[string]shelfItem{"default": {Size: 1}}}
		},
		Open: func(section any) (plugins.Scope, error) {
			sec := section.(*shelfSection)
			s.mu.Lock()
			defer s.mu.Unlock()
			s.sections = append(s.sections, sec)
			var errs []error
			for _, name := range slices.Sorted(func(yield func(string) bool) {
				for k := range sec.Items {
					if !yield(k) {
						return
					}
				}
			}) {
				if sec.Items[name].Size <= 0 {
					errs = append(errs, &plugins.FieldError{Field: "items." + name + ".size", Msg: "must be > 0"})
				}
			}
			if len(errs) > 0 {
				return nil, errors.Join(errs...)
			}
			s.opened++
			return &shelfScope{s: s, section: sec}, nil
		},
	}
}

const shelfRoutes = `listeners: [{ name: public, address: "127.0.0.1:0" }]
upstreams: [{ name: echo, builtin: echo }]
shelf:
  items:
    big: { size: 10 }
  file: rules/extra.conf
virtual_hosts:
  - name: shop
    hosts: ["*"]
    plugins: [{ shelf: big }]
    routes:
      - { name: a, upstream: echo }
      - { name: b, upstream: echo, plugins: [{ shelf: default }] }
`

// TestSection decodes a plugin's top-level section, opens its scope once,
// builds every route's handler through it, resolves its file against the
// routes file's directory, and closes the scope once the chains are built.
func TestSection(t *testing.T) {
	s := &shelves{}
	reg, _ := testRegistry(t, s.factory)
	cfg, err := Parse("/etc/portcullis/routes.yaml", []byte(shelfRoutes), reg)
	if err != nil {
		t.Fatalf("got error:\n%v", err)
	}
	defer cfg.Close()
	if s.opened != 1 || s.closed != 1 {
		t.Errorf("got %d scopes opened and %d closed, want 1 and 1", s.opened, s.closed)
	}
	sec := cfg.File.Sections["shelf"].(*shelfSection)
	if sec.Items["big"].Size != 10 || sec.Items["default"].Size != 1 {
		t.Errorf("got items %v, want big of 10 and the default of 1", sec.Items)
	}
	if want := filepath.FromSlash("/etc/portcullis/rules/extra.conf"); string(sec.File) != want || !slices.Contains(cfg.Files(), want) {
		t.Errorf("got file %q and watched files %q, want %q in both", sec.File, cfg.Files(), want)
	}
	for route, want := range map[string]int{"a": 10, "b": 1} {
		rule := ruleNamed(t, cfg, route)
		h := rule.Chain.Handlers[0].(*handler)
		if got := h.cfg.(shelfItem).Size; got != want {
			t.Errorf("route %s: got item of size %d, want %d", route, got, want)
		}
	}
}

// TestSectionLeftOut opens a used plugin's scope with the section's
// defaults, and none for a plugin that nothing uses or configures.
func TestSectionLeftOut(t *testing.T) {
	src := `listeners: [{ name: public, address: "127.0.0.1:0" }]
upstreams: [{ name: echo, builtin: echo }]
virtual_hosts:
  - name: shop
    hosts: ["*"]
    routes: [{ name: a, upstream: echo %s }]
`
	for _, tt := range []struct {
		name, plugins string
		opened        int
	}{
		{"used", ", plugins: [{ shelf: }]", 1},
		{"unused", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &shelves{}
			reg, _ := testRegistry(t, s.factory)
			cfg, err := Parse("routes.yaml", fmt.Appendf(nil, src, tt.plugins), reg)
			if err != nil {
				t.Fatalf("got error:\n%v", err)
			}
			defer cfg.Close()
			if s.opened != tt.opened || s.closed != tt.opened {
				t.Errorf("got %d scopes opened and %d closed, want %d each", s.opened, s.closed, tt.opened)
			}
			if tt.opened == 1 && s.sections[0].Items["default"].Size != 1 {
				t.Errorf("got section %v, want the defaults", s.sections[0])
			}
		})
	}
}

// TestSectionErrors points each error of a section at its line: the
// decoder's and those Open returns, and a route's build error beside them.
func TestSectionErrors(t *testing.T) {
	src := `listeners: [{ name: public, address: "127.0.0.1:0" }]
upstreams: [{ name: echo, builtin: echo }]
shelf:
  items:
    big: { size: 0 }
    small: { size: -1 }
virtual_hosts:
  - name: shop
    hosts: ["*"]
    routes: [{ name: a, upstream: echo, plugins: [{ shelf: big }] }]
`
	s := &shelves{}
	reg, tr := testRegistry(t, s.factory)
	_, err := Parse("routes.yaml", []byte(src), reg)
	want := strings.Join([]string{
		"routes.yaml:5:18: shelf.items.big.size: must be > 0",
		"routes.yaml:6:20: shelf.items.small.size: must be > 0",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got error:\n%v\nwant:\n%s", err, want)
	}
	if len(tr.handlers()) != 0 || s.opened != 0 {
		t.Errorf("got %d handlers and %d scopes, want none", len(tr.handlers()), s.opened)
	}

	bad := strings.Replace(src, "size: 0 }", "size: 1, colour: red }", 1)
	bad = strings.Replace(bad, "size: -1", "size: 2", 1)
	bad = strings.Replace(bad, "shelf: big", "shelf: huge", 1)
	_, err = Parse("routes.yaml", []byte(bad), reg)
	want = `routes.yaml:5:21: shelf.items.big: unknown key "colour"`
	if err == nil || err.Error() != want {
		t.Errorf("got error:\n%v\nwant:\n%s", err, want)
	}
	good := strings.Replace(bad, ", colour: red", "", 1)
	_, err = Parse("routes.yaml", []byte(good), reg)
	want = `routes.yaml:10:53: route "a": plugins[0] shelf: no item "huge"`
	if err == nil || err.Error() != want {
		t.Errorf("got error:\n%v\nwant:\n%s", err, want)
	}
	if s.opened != s.closed {
		t.Errorf("got %d scopes opened and %d closed, want each closed", s.opened, s.closed)
	}
}

// TestSectionUnknownPlugin keeps an unknown top-level key an error, also
// when it names a plugin without a section.
func TestSectionUnknownPlugin(t *testing.T) {
	reg, _ := testRegistry(t)
	for _, key := range []string{"shelf", "headers"} {
		src := "listeners: []\n" + key + ": {}\n"
		_, err := Parse("routes.yaml", []byte(src), reg)
		want := fmt.Sprintf(`routes.yaml:2:1: unknown key %q`, key)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got error:\n%v\nwant one with %q", key, err, want)
		}
	}
}

// TestSectionFileWatched reloads the routes file when a file that a
// section names changes.
func TestSectionFileWatched(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules", "extra.conf")
	writeFile(t, rules, []byte("one"))
	s := &shelves{}
	reg, _ := testRegistry(t, s.factory)
	writeFile(t, filepath.Join(dir, "routes.yaml"), []byte(shelfRoutes))
	cfg, err := Load(filepath.Join(dir, "routes.yaml"), reg)
	if err != nil {
		t.Fatalf("got error:\n%v", err)
	}
	defer cfg.Close()
	w, err := NewWatcher(filepath.Join(dir, "routes.yaml"), cfg, reg, func(*Config, error) {})
	if err != nil {
		t.Fatal(err)
	}
	defer w.fw.Close()
	before := w.checksum()
	if err := os.WriteFile(rules, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if w.checksum() == before {
		t.Error("got the same checksum after the rule file changed, want a new one")
	}
}

// ruleNamed returns the rule of the route named name.
func ruleNamed(t *testing.T, cfg *Config, name string) *Rule {
	t.Helper()
	for _, h := range []*Host{cfg.Table.fallback} {
		for _, r := range h.Rules {
			if r.Name == name {
				return r
			}
		}
	}
	t.Fatalf("no route %q", name)
	return nil
}
