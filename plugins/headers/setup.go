// Package headers is the headers plugin: it sets, adds and removes request
// headers before a request goes upstream, and response headers before the
// response reaches the client.
//
// All names are checked and canonicalised when the routes file is loaded, so
// on the request path the plugin does nothing but map writes.
package headers

import (
	"errors"
	"fmt"

	"github.com/portcullis-gw/portcullis/plugins"
)

// Name is the key that turns the plugin on in the routes file.
const Name = "headers"

// Config is the plugin's block in the routes file.
type Config struct {
	// Request edits the request as it will be forwarded upstream.
	Request Ops `yaml:"request"`
	// Response edits the upstream's response before the client sees it.
	Response Ops `yaml:"response"`
}

// Ops are the edits made to one header set. They apply in a fixed order:
// Remove, then Set, then Add, so that an edit never depends on map order.
//
// The values of Set and Add are secret (plugins.SecretTag): a value written
// into a request is often a credential (x-api-key, cookie, authorization),
// so the running configuration shows which headers are set, never to what.
type Ops struct {
	// Set replaces every value of each named header with the one given,
	// adding the header if it is absent.
	Set map[string]string `yaml:"set" secret:"true"`
	// Add appends one value to each named header, keeping values already
	// there.
	Add map[string]string `yaml:"add" secret:"true"`
	// Remove deletes each named header with all its values.
	Remove []string `yaml:"remove"`
}

func (o *Ops) empty() bool { return len(o.Set) == 0 && len(o.Add) == 0 && len(o.Remove) == 0 }

// Factory returns the headers plugin's factory, for the binary's registry.
func Factory() plugins.Factory {
	return plugins.Factory{
		Name:   Name,
		Config: func() any { return new(Config) },
		Build:  build,
	}
}

// build validates cfg and returns a *Headers, or a *WithResponse when there
// are response edits: plugins.NewChain lists a handler among the response
// handlers whenever its type has HandleResponse, so a type without it keeps
// request-only routes off the response path.
func build(cfg any) (plugins.Handler, error) {
	c, ok := cfg.(*Config)
	if !ok || c == nil {
		return nil, fmt.Errorf("config is %T, want *headers.Config", cfg)
	}
	if c.Request.empty() && c.Response.empty() {
		return nil, errors.New("no request or response edits: nothing to do")
	}
	req, reqErr := compile("request", &c.Request)
	resp, respErr := compile("response", &c.Response)
	if err := errors.Join(reqErr, respErr); err != nil {
		return nil, err
	}
	h := &Headers{request: req}
	if c.Response.empty() {
		return h, nil
	}
	return &WithResponse{Headers: *h, response: resp}, nil
}
