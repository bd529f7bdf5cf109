package main

import (
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
	"github.com/portcullis-gw/portcullis/waf"
)

// registry returns the plugins this binary knows, the WAF among them as w
// (which outlives a load: its metrics and audit logs) and authz as a (its
// metrics). It is the one place a new plugin is added.
func registry(w *waf.Plugin, a *authz.Plugin) (*plugins.Registry, error) {
	return plugins.NewRegistry(
		a.Factory(),
		headers.Factory(),
		ratelimit.Factory(),
		w.Factory(),
	)
}
