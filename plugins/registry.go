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
	// the routes file can point at its line.
	Build func(cfg any) (Handler, error)
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
// unique and non-empty.
func NewRegistry(factories ...Factory) (*Registry, error) {
	r := &Registry{byName: make(map[string]Factory, len(factories))}
	for _, f := range factories {
		if f.Name == "" || f.Config == nil || f.Build == nil {
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
