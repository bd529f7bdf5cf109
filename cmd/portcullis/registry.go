package main

import (
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/plugins/jwt"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
	"github.com/portcullis-gw/portcullis/waf"
)

// registry returns the plugins this binary knows, the WAF among them as w
// (which outlives a load: its metrics and audit logs) and authz as a (its
// metrics), with a jwt plugin that logs nothing. It is the one place a new
// plugin is added.
func registry(w *waf.Plugin, a *authz.Plugin) (*plugins.Registry, error) {
	return registryWith(w, a, jwt.New(jwt.Options{}))
}

// registryWith is registry with the jwt plugin j, which serve gives the
// gateway's log for its key fetches and its metrics registry.
func registryWith(w *waf.Plugin, a *authz.Plugin, j *jwt.Plugin) (*plugins.Registry, error) {
	return plugins.NewRegistry(
		a.Factory(),
		headers.Factory(),
		j.Factory(),
		ratelimit.Factory(),
		w.Factory(),
	)
}
