package waf_test

import (
	"errors"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/routes/routestest"
	"github.com/portcullis-gw/portcullis/waf"
)

// TestREADME loads every yaml example of README.md as a whole routes file
// and checks that its route for GET example.com/ blocks the README's
// attack and passes a plain request.
func TestREADME(t *testing.T) {
	for i, rule := range routestest.ReadmeRules(t, "README.md", waf.New(waf.Options{}).Factory(), 2) {
		t.Run(plugintest.Name(i), func(t *testing.T) {
			h := rule.Chain.Handlers[0]
			o := plugintest.Run(t, "HTTP/1.1", h, plugintest.Exchange{Target: "/?q=%3Cscript%3Ealert(1)%3C/script%3E"})
			var rej *plugins.Reject
			if !errors.As(o.Err, &rej) || rej.Status != 403 {
				t.Errorf("got %v, want 403", o.Err)
			}
			if o := plugintest.Run(t, "HTTP/1.1", h, plugintest.Exchange{Target: "/?q=shoes", Header: browser()}); o.Err != nil {
				t.Errorf("got %v, want the plain request passed", o.Err)
			}
		})
	}
}
