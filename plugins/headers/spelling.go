package headers

import (
	"net/http"

	"github.com/portcullis-gw/portcullis/plugins"
)

// dropSpellings deletes from h every header that names is one of to a
// backend that reads '_' as '-' (plugins.SameHeaderName). It makes remove
// and set mean what they say to such a backend: a client that sends
// x_api_key cannot keep a header the route removes, nor put a second value
// beside one the route sets. It compares in place, so it allocates nothing;
// a map lookup cannot find another spelling.
func dropSpellings(h http.Header, names []string) {
	for k := range h {
		for _, n := range names {
			if plugins.SameHeaderName(k, n) {
				delete(h, k)
				break
			}
		}
	}
}
