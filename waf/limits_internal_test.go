package waf

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// unlimited counts without stopping.
func unlimited() *usage {
	return &usage{l: &Limits{InspectedBytes: 1 << 30, Args: 1 << 30, Depth: 1 << 30}}
}

// jsonShape counts a valid JSON document's scalar values and its deepest
// nesting with encoding/json, as a reference for usage.json.
func jsonShape(b []byte) (values, depth int) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	level := 0
	inObject := []bool{}
	expectKey := false
	for {
		tok, err := d.Token()
		if err == io.EOF || err != nil {
			return
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			level++
			depth = max(depth, level)
			inObject = append(inObject, tok == json.Delim('{'))
			expectKey = tok == json.Delim('{')
			continue
		case json.Delim('}'), json.Delim(']'):
			level--
			inObject = inObject[:len(inObject)-1]
			expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
			continue
		}
		if expectKey {
			expectKey = false
			continue
		}
		values++
		expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
	}
}

func TestJSONUsage(t *testing.T) {
	tests := []struct {
		body          string
		values, depth int
	}{
		{`{}`, 0, 1},
		{`{"a": 1, "b": [true, false, null, "x"], "c": {"d": "e:f"}}`, 6, 2},
		{`["a\"b", "c\\", -1.5e3]`, 3, 1},
		{`  "just a string"  `, 1, 0},
		{`{"key": {"key2": {"key3": []}}}`, 0, 4},
	}
	for _, tt := range tests {
		u := unlimited()
		u.json([]byte(tt.body))
		values, depth := jsonShape([]byte(tt.body))
		if u.args != tt.values || values != tt.values || depth != tt.depth {
			t.Errorf("%s: got %d values (reference %d, depth %d), want %d and depth %d", tt.body, u.args, values, depth, tt.values, tt.depth)
		}
	}
}

// FuzzJSONUsage checks usage.json against encoding/json on valid JSON,
// and that it ends on anything: it counts no more values than there are
// bytes, and the depth limit holds.
func FuzzJSONUsage(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c"}]}`, `[[[[[]]]]]`, `"\\\"`, `{"a":"}`, `[1,2,3`, `{"a"::}`, "\xff\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u := unlimited()
		u.json(b)
		if u.args > len(b) {
			t.Fatalf("got %d values in %d bytes", u.args, len(b))
		}
		if json.Valid(b) {
			if values, _ := jsonShape(b); values != u.args {
				t.Fatalf("%q: got %d values, encoding/json counts %d", b, u.args, values)
			}
		}
		limited := &usage{l: &Limits{InspectedBytes: 1 << 30, Args: 1 << 30, Depth: 3}}
		if limited.json(b) && json.Valid(b) {
			if _, depth := jsonShape(b); depth > 3 {
				t.Fatalf("%q: nesting %d passed a limit of 3", b, depth)
			}
		}
	})
}

// FuzzBodyUsage feeds any bytes to every body counter: none may fail to
// end or count more arguments than the body could hold.
func FuzzBodyUsage(f *testing.F) {
	f.Add("MULTIPART", "multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--X--\r\n"))
	f.Add("XML", "text/xml", []byte("<a b='1'><c>2</c><![CDATA[x]]></a>"))
	f.Add("URLENCODED", "application/x-www-form-urlencoded", []byte("a=1&&b=2"))
	f.Add("", "text/plain", []byte("a"))
	f.Fuzz(func(t *testing.T, processor, ctype string, b []byte) {
		u := unlimited()
		u.body(processor, ctype, b)
		if u.args > len(b)+1 {
			t.Fatalf("got %d arguments in %d bytes", u.args, len(b))
		}
		if u.bytes > len(b) && !strings.EqualFold(processor, "MULTIPART") {
			t.Fatalf("got %d bytes counted of %d", u.bytes, len(b))
		}
	})
}
