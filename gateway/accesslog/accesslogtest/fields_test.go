package accesslogtest

import (
	"reflect"
	"testing"
)

func TestSplitFields(t *testing.T) {
	tests := []struct {
		line string
		want []string
		ok   bool
	}{
		{`[t] "GET / HTTP/1.1" 200 - "a b"` + "\n", []string{"[t]", `"GET / HTTP/1.1"`, "200", "-", `"a b"`}, true},
		{`"unclosed`, nil, false},
		{`a  b`, []string{"a"}, false},
		{`"a"b`, []string{`"a"`}, false},
		{`a `, []string{"a"}, false},
	}
	for _, tt := range tests {
		got, ok := SplitFields(tt.line)
		if ok != tt.ok || tt.ok && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitFields(%q): got %q, %v, want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}
