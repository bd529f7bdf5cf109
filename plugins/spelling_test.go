package plugins_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/plugintest"
)

// TestDelReachesEverySpellingAfterLearning edits a request header in
// sequences where an earlier Del has taught the view that the client sent
// no other spellings: a later Del or Set must still reach every spelling,
// of the name it is given and of the names written since.
func TestDelReachesEverySpellingAfterLearning(t *testing.T) {
	tests := []struct {
		name string
		in   http.Header
		edit func(h plugins.Header)
	}{
		{"del of an underscore name reaches the hyphen spelling", http.Header{"X-Api-Key": {"client"}},
			func(h plugins.Header) { h.Del("X-Debug"); h.Del("x_api_key") }},
		{"set of an underscore name replaces the hyphen spelling", http.Header{"X-Api-Key": {"client"}},
			func(h plugins.Header) { h.Del("X-Debug"); h.Set("X_API_KEY", "gw"); h.Del("x-api-key") }},
		{"a field set under an underscore name is found by del", http.Header{},
			func(h plugins.Header) { h.Set("x_api_key", "gw"); h.Del("X-Api-Key") }},
		{"a field set under an underscore name after learning is found by del", http.Header{},
			func(h plugins.Header) { h.Del("X-Debug"); h.SetValues("x_api_key", []string{"gw"}); h.Del("X-Api-Key") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := tt.in.Clone()
			hdr["Accept"] = []string{"*/*"}
			tt.edit(plugintest.Get(hdr).Header())
			for k := range hdr {
				if plugins.SameHeaderName(k, "X-Api-Key") {
					t.Errorf("got %q left in %v, want every spelling of X-Api-Key gone", k, hdr)
				}
			}
		})
	}
}

// TestTrailerDelAfterBodyEnd removes a trailer field before and after the
// body is read: the server writes the trailer fields the client sent into
// the map at the body's end, past the view, and the second Del must still
// reach every spelling of the name among them.
func TestTrailerDelAfterBodyEnd(t *testing.T) {
	req := plugintest.Parse(t, "POST /p HTTP/1.1\r\nHost: a\r\nTrailer: X-Sig\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"2\r\nok\r\n0\r\nX-Sig: a\r\nx_sig: forged\r\nX-Other: keep\r\n\r\n")
	req.Trailer().Del("X-Sig")
	if _, err := io.Copy(io.Discard, req.Body()); err != nil {
		t.Fatal(err)
	}
	req.Trailer().Del("x-sig")
	var left []string
	req.Trailer().Each(func(name, value string) bool {
		left = append(left, name+": "+value)
		return true
	})
	if got := strings.Join(left, ", "); got != "X-Other: keep" {
		t.Errorf("got trailer %q, want only X-Other: keep", got)
	}
}
