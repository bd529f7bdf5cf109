package plugins

import "io"

// Scope is what the routes that use one plugin share within one load of the
// routes file, built from the plugin's top-level section (Factory.Section):
// the WAF's engines, one per profile, that every route naming the profile
// uses. It builds that load's handlers in place of Factory.Build.
//
// The routes file opens a plugin's scope once per load, before it builds any
// chain, and closes it once every chain is built, whether the load succeeded
// or failed. What a handler uses of the scope it holds itself until its own
// Close (the gateway closes a retired configuration's chains after their
// last request), so Close on the scope releases only what no handler took:
// a profile no route names, or everything of a load that failed.
type Scope interface {
	// Build validates one plugin entry's configuration (a value from
	// Factory.Config) and builds its handler, as Factory.Build does.
	Build(cfg any) (Handler, error)
	io.Closer
}
