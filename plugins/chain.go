package plugins

import (
	"context"
	"errors"
	"io"
)

// Chain is a route's built plugins, in the order they run.
type Chain struct {
	// Names are the plugin names, parallel to Handlers.
	Names    []string
	Handlers []Handler
	// responders holds the handlers that also inspect responses, in reverse
	// order, so the last plugin to see the request is the first to see the
	// response.
	responders []ResponseHandler
}

// NewChain returns a chain of handlers named by names, in that order.
func NewChain(names []string, handlers []Handler) *Chain {
	c := &Chain{Names: names, Handlers: handlers}
	for i := len(handlers) - 1; i >= 0; i-- {
		if rh, ok := handlers[i].(ResponseHandler); ok {
			c.responders = append(c.responders, rh)
		}
	}
	return c
}

// Len returns the number of handlers in the chain; a nil chain has none.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return len(c.Handlers)
}

// HasResponders reports whether any handler inspects responses.
func (c *Chain) HasResponders() bool { return c != nil && len(c.responders) > 0 }

// HandleRequest runs each handler in order and stops at the first error.
func (c *Chain) HandleRequest(ctx context.Context, req *Request) error {
	if c == nil {
		return nil
	}
	for _, h := range c.Handlers {
		if err := h.HandleRequest(ctx, req); err != nil {
			return err
		}
	}
	return nil
}

// HandleResponse runs each response handler, last plugin first, and stops at
// the first error.
func (c *Chain) HandleResponse(ctx context.Context, req *Request, resp *Response) error {
	if c == nil {
		return nil
	}
	for _, h := range c.responders {
		if err := h.HandleResponse(ctx, req, resp); err != nil {
			return err
		}
	}
	return nil
}

// Close closes every handler that holds resources. It is safe on a chain
// built only in part.
func (c *Chain) Close() error {
	if c == nil {
		return nil
	}
	var errs []error
	for _, h := range c.Handlers {
		if cl, ok := h.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
	}
	return errors.Join(errs...)
}
