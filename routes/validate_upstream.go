package routes

import (
	"fmt"
	"time"
)

// balancers are the load-balancing policies an upstream may name; the first
// is the default. New policies are added here and nowhere else in this
// package.
var balancers = []string{"round_robin"}

// builtins are the upstreams served inside the gateway.
var builtins = []string{"echo"}

func (c *checker) checkUpstreams() {
	names := make(map[string]int)
	for i := range c.f.Upstreams {
		u := &c.f.Upstreams[i]
		s := c.scope(label("upstream", u.Name, fmt.Sprintf("upstreams[%d]", i)), u)
		c.unique(s, names, &u.Name)
		if _, dup := c.upstreams[u.Name]; u.Name != "" && !dup {
			c.upstreams[u.Name] = u
		}
		switch {
		case u.Builtin != "" && u.Endpoints != nil:
			s.errorf(&u.Builtin, "set endpoints or builtin, not both")
		case u.Builtin != "":
			s.oneOf("builtin", &u.Builtin, builtins...)
		case u.Endpoints == nil:
			s.errorf(u, "needs endpoints or builtin")
		case len(u.Endpoints) == 0:
			s.errorf(&u.Endpoints, "endpoints: must not be empty")
		}
		for j, e := range u.Endpoints {
			if err := endpointAddress(e); err != nil {
				s.errorf(&u.Endpoints[j], "endpoints[%d]: %v", j, err)
			}
		}
		s.oneOf("balancer", &u.Balancer, balancers...)
		s.oneOf("protocol", &u.Protocol, "http1", "http2")
		if u.MaxIdlePerHost < 0 {
			s.errorf(&u.MaxIdlePerHost, "max_idle_per_endpoint: must not be negative, got %d", u.MaxIdlePerHost)
		}
		fill(&u.MaxIdlePerHost, 256)
		fill(&u.ConnectTimeout, Duration(5*time.Second))
		fill(&u.Timeout, Duration(30*time.Second))
		fill(&u.IdleTimeout, Duration(90*time.Second))
		if u.TLS != nil {
			c.checkCAFile(s, u.TLS)
		}
	}
}
