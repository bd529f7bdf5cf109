package accesslog

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/accesslog/accesslogtest"
	"github.com/portcullis-gw/portcullis/plugins"
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

// FuzzMetadata puts any bytes in the namespaces, keys and values that
// plugins record, and in entries made without Metadata.Set, and checks that the JSON log stays one valid object that
// decodes back to them, and that %DYNAMIC_METADATA()% in a text log, by
// key or a whole namespace, stays one field: no space, quote or newline of
// a value reaches the line unescaped.
func FuzzMetadata(f *testing.F) {
	for _, s := range []string{"x", `"},"admin":{"`, "a b\n", "\xff\xe2\x80\xa8", "\\", "\x00\x7f"} {
		f.Add("portcullis.waf", "rule_ids", s)
		f.Add(s, s, s)
	}
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, ns, key, value string) {
		// Entries made without Set, empty names included, are still JSON.
		direct := AppendJSON(nil, &Record{Metadata: []plugins.MetadataEntry{{Namespace: ns, Key: key, Value: value}}})
		if !json.Valid(direct) {
			t.Fatalf("an entry %q/%q: got invalid JSON %q", ns, key, direct)
		}
		var md plugins.Metadata
		md.Set(ns, key, value)
		md.Set("other", key, value)
		md.Set(ns, value, key)
		r := &Record{Metadata: md.Entries()}
		line := AppendJSON(nil, r)
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil || bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("got %q (%v), want one valid JSON object on one line", line, err)
		}
		if ns == "" || key == "" {
			return
		}
		var want any
		if value != "" {
			want = string([]rune(value))
		}
		got, _ := m[FieldDynamicMetadata].(map[string]any)
		if obj, _ := got["other"].(map[string]any); obj[string([]rune(key))] != want {
			t.Errorf("got %#v, want other.%q = %#v", got, key, want)
		}
		if strings.ContainsAny(ns+key, " %()\n") {
			return // not spellable inside an operator's argument
		}
		for _, text := range []string{"%DYNAMIC_METADATA(" + ns + ")% x\n", "%DYNAMIC_METADATA(" + ns + ":" + key + "):7% x\n"} {
			c, err := Compile(text)
			if err != nil {
				continue
			}
			out := c.Append(nil, r)
			if !bytes.HasSuffix(out, []byte(" x\n")) || bytes.ContainsAny(out[:len(out)-3], " \"\n\r") {
				t.Errorf("format %q: got %q, want one field then \" x\"", text, out)
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

// FuzzPresetFields puts the same bytes in every text field of a record and
// in every header the presets read, and checks that each preset's line has
// exactly the fields its format gives it: no value, whoever set it (a
// client's header, SNI or path; a plugin's details; an upstream's error),
// can close its quotes, add a field or a request-line part, or end the line.
func FuzzPresetFields(f *testing.F) {
	for _, s := range []string{"", "x", `a" "b`, "a b", "a\nb", `\"`, "\xff\xe2\x80\xa8", "-"} {
		f.Add(s)
	}
	type preset struct {
		f      *Format
		fields int
	}
	var presets []preset
	for _, name := range []string{"envoy", "istio", "istio-legacy"} {
		text, _ := Preset(name)
		c, err := Compile(text)
		if err != nil {
			f.Fatal(err)
		}
		fields, ok := accesslogtest.SplitFields(string(c.Append(nil, filled("x"))))
		if !ok {
			f.Fatalf("%s: a plain line does not split into fields", name)
		}
		presets = append(presets, preset{c, len(fields)})
	}
	f.Fuzz(func(t *testing.T, value string) {
		r := filled(value)
		for _, p := range presets {
			line := string(p.f.Append(nil, r))
			if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Fatalf("value %q: got %q, want one line", value, line)
			}
			fields, ok := accesslogtest.SplitFields(line)
			if !ok || len(fields) != p.fields {
				t.Fatalf("value %q: got %q, %d fields (split ok: %v), want %d", value, line, len(fields), ok, p.fields)
			}
			if n := strings.Count(fields[1], " "); n != 2 {
				t.Fatalf("value %q: request line %s, want three parts", value, fields[1])
			}
		}
	})
}

// filled returns a record with v in every string field and in every header
// the presets read.
func filled(v string) *Record {
	r := fullRecord()
	rv := reflect.ValueOf(r).Elem()
	for i := 0; i < rv.NumField(); i++ {
		if fv := rv.Field(i); fv.Kind() == reflect.String {
			fv.SetString(v)
		}
	}
	h := http.Header{}
	for _, k := range []string{"User-Agent", "X-Forwarded-For", "X-Request-Id", "X-Envoy-Original-Path", "X-Envoy-Upstream-Service-Time"} {
		h[k] = []string{v}
	}
	r.RequestHeader, r.ResponseHeader = h, h
	return r
}
