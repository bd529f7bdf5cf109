package main

import (
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
	"github.com/portcullis-gw/portcullis/waf"
)

// registry returns the plugins this binary knows, the WAF among them as w
// (which outlives a load: its metrics and audit logs). It is the one place a
// new plugin is added.
func registry(w *waf.Plugin) (*plugins.Registry, error) {
	return plugins.NewRegistry(
		headers.Factory(),
		ratelimit.Factory(),
		w.Factory(),
	)
}
