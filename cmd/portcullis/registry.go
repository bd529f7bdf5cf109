package main

import (
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/headers"
	"github.com/portcullis-gw/portcullis/plugins/ratelimit"
)

// registry returns the plugins this binary knows. It is the one place a new
// plugin is added.
func registry() (*plugins.Registry, error) {
	return plugins.NewRegistry(
		headers.Factory(),
		ratelimit.Factory(),
	)
}
