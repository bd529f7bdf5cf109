package plugins

import (
	"fmt"
	"slices"
)

// Factory builds one kind of plugin from its configuration in the routes file.
type Factory struct {
	// Name is the key that turns the plugin on in the routes file.
	Name string
	// Config returns a pointer to a new configuration value, with its
	// defaults set, into which the routes file decodes the plugin's block.
	// Its fields carry yaml tags; unknown keys are errors.
	Config func() any
	// Build validates a decoded configuration and builds the handler. A
	// *FieldError (or an errors.Join of them) names the field at fault, so
	// the routes file can point at its line. A plugin with a Section builds
	// through its Scope instead and leaves Build nil.
	Build func(cfg any) (Handler, error)

	// Section, for a plugin whose routes share settings, returns a pointer
	// to a new, defaulted value for the plugin's own top-level block of the
	// routes file, written under the plugin's Name (the WAF's `waf:` block
	// of profiles) and decoded as strictly as Config's. When the file has
	// no such block, Open gets the value as Section returned it.
	Section func() any
	// Open, with Section, validates a decoded section and builds what the
	// routes share, once per load of the routes file and off the request
	// path. Its Scope builds that load's handlers. A *FieldError names a
	// field of the section. The routes file opens a scope when it writes
	// the section or a route uses the plugin.
	Open func(section any) (Scope, error)
}

// complete reports whether f has what the routes file needs: a name, a
// config, and either Build or both Section and Open.
func (f *Factory) complete() bool {
	if f.Name == "" || f.Config == nil || (f.Section == nil) != (f.Open == nil) {
		return false
	}
	return (f.Build == nil) != (f.Open == nil)
}

// FieldError is a configuration error about one field of a plugin's block.
type FieldError struct {
	// Field is the yaml key at fault, dotted for nested keys ("limits.burst").
	Field string
	// Msg says what is wrong, in lower case.
	Msg string
}

// Error reports the field and the message.
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Registry is the set of plugins a gateway binary knows. It is a value built
// by the binary, never filled by package initialisation.
type Registry struct {
	byName map[string]Factory
}

// NewRegistry returns a registry of the given factories. Names must be
// unique and non-empty, and each factory complete: a Config, and either a
// Build or a Section with its Open.
func NewRegistry(factories ...Factory) (*Registry, error) {
	r := &Registry{byName: make(map[string]Factory, len(factories))}
	for _, f := range factories {
		if !f.complete() {
			return nil, fmt.Errorf("plugin factory %q is incomplete", f.Name)
		}
		if _, dup := r.byName[f.Name]; dup {
			return nil, fmt.Errorf("plugin %q is registered twice", f.Name)
		}
		r.byName[f.Name] = f
	}
	return r, nil
}

// Lookup returns the factory registered under name.
func (r *Registry) Lookup(name string) (Factory, bool) {
	if r == nil {
		return Factory{}, false
	}
	f, ok := r.byName[name]
	return f, ok
}

// Names returns the registered plugin names, sorted.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
