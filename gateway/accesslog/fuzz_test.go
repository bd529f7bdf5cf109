package accesslog

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzAppendJSON checks that any bytes in client-controlled values give one
// valid JSON object that decodes back to the value.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{"", "Mozilla/5.0", `"\`, "a\nb", "\x00\x1f\x7f", "\xff\xfe", "\u2028", "\xe2\x98", "☃"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, ua, path string) {
		r := &Record{
			RequestHeader: http.Header{"User-Agent": {ua}, "X-Forwarded-For": {path}},
			Path:          path,
			Authority:     ua,
		}
		line := AppendJSON(nil, r)
		if !bytes.HasSuffix(line, []byte("}\n")) || bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("got %q, want one object and one trailing newline", line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("got invalid JSON %q: %v", line, err)
		}
		for key, in := range map[string]string{FieldUserAgent: ua, FieldAuthority: ua, FieldPath: path, FieldXForwardedFor: path} {
			var want any
			if in != "" {
				want = string([]rune(in))
			}
			if m[key] != want {
				t.Errorf("%s: got %#v, want %#v", key, m[key], want)
			}
		}
	})
}

// FuzzCompile checks that no format string panics Compile or Append, and
// that no header value adds a line: the output holds exactly the newlines
// of the format's own text.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		envoyFormat, istioFormat, istioLegacyFormat,
		"%", "%%", "%%%", "%A", "%REQ(", "%REQ(A", "%REQ(A)", "%REQ(A):", "%REQ(A):9",
		"%REQ(A?B):3%", "%START_TIME(%)%", "%START_TIME(%9f%s%z)%", "%START_TIME(%", "100%% %PROTOCOL%\n",
		"%DYNAMIC_METADATA(a:b):2%", "%REQ(:PROTOCOL)%",
	} {
		f.Add(s, "a\nb")
	}
	f.Fuzz(func(t *testing.T, format, value string) {
		c, err := Compile(format)
		if err != nil {
			return
		}
		r := fullRecord()
		r.RequestHeader = http.Header{}
		for _, k := range []string{"A", "B", "User-Agent", "X-Forwarded-For", ":protocol"} {
			r.RequestHeader[k] = []string{value}
		}
		r.Path, r.RouteName = value, value
		got := c.Append(nil, r)
		var lits int
		for _, p := range c.parts {
			lits += strings.Count(p.lit, "\n")
		}
		if n := bytes.Count(got, []byte("\n")); n != lits {
			t.Errorf("got %d newlines in %q, want %d", n, got, lits)
		}
	})
}
