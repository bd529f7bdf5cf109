// Package plugins is the extension contract of the gateway: what a plugin is
// given, what it may return, and how the routes file finds and builds it.
//
// A plugin is configured by name in the routes file, per virtual host and per
// route. At load time its Factory decodes and validates that configuration and
// builds a Handler; the route table holds the built handlers as an immutable
// chain. On the request path the gateway calls each handler in the chain's
// order; a handler that returns a *Reject stops the request, and the gateway
// renders that one value and records it in the access log.
//
// A handler sees a view of the request (RequestView) and, in the response
// phase, of the response (ResponseView), never net/http's types: the views
// read and edit the engine's own request in place, so the same plugin runs on
// HTTP/1.1, HTTP/2 and HTTP/3 and on any engine that implements them. A plugin
// may change header and trailer fields and replace bodies; what the route
// matched (method, authority, path) is fixed. It must keep nothing of a
// request after its call returns: views, headers and their values are reused.
// RequestView.HTTPRequest is the escape hatch to net/http's type, built on
// demand. README.md in this folder is the contract in full, with how to test a
// plugin (package plugintest).
//
// A plugin's config type marks the fields that hold secrets (credentials, key
// material, header values it writes) with the struct tag `secret:"true"`
// (SecretTag). The running configuration is shown through Display, which
// replaces every value beneath such a field with Redacted, so the admin API
// never shows them.
//
// This package imports nothing of the gateway's, so plugins depend on the
// contract alone and never on the data plane's internals.
package plugins

import (
	"context"
)

// Handler inspects or edits a request before it is sent upstream.
//
// HandleRequest may change the request's header and trailer fields and
// replace its body, through the view (see RequestView). It returns
// nil to let the request go on, a *Reject to answer the client itself, or any
// other error, which the gateway answers as 500 and logs.
type Handler interface {
	HandleRequest(ctx context.Context, req *Request) error
}

// ResponseHandler is implemented by handlers that also inspect responses, such
// as a WAF. HandleResponse runs after the upstream's response headers arrive
// and before any byte of the response reaches the client, so it may still
// replace the response with a *Reject. It may edit the response's header and
// trailer fields and wrap its body (see ResponseView).
type ResponseHandler interface {
	HandleResponse(ctx context.Context, req *Request, resp *Response) error
}
