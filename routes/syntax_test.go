package routes

import (
	"strings"
	"testing"
)

// TestSyntaxErrorPlace checks that a YAML syntax error is reported at the
// line and column of the problem, not where the enclosing block began, and
// that the message quotes no byte a terminal would act on.
func TestSyntaxErrorPlace(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unclosed quote", "listeners:\n  - name: web\n    address: \"127.0.0.1:0\n", `s.yaml:3:14: could not find end character of double-quoted text`},
		{"key indented too little", "listeners:\n  - name: web\n   address: x\n", `s.yaml:3:4: value is not allowed in this context`},
		{"key indented too far back", "admin:\n  address: x\n off: 1\n", `s.yaml:3:2: value is not allowed in this context`},
		{"tab indentation", "listeners:\n\t- name: web\n", `s.yaml:2:1: found character '\t' that cannot start any token`},
		{"unclosed flow mapping", "virtual_hosts: [\n  { name: shop\n", `s.yaml:2:3: could not find flow mapping end token '}'`},
		{"unclosed flow sequence", "admin: { address: x }\nlisteners: [1, 2\n", `s.yaml:2:12: sequence end token ']' not found`},
		{"mapping in a plain value, first line", "admin: address: x\n", `s.yaml:1:8: mapping value is not allowed in this context`},
		{"reserved character", "admin:\n  address: @x\n", `s.yaml:2:12: '@' is a reserved character`},
		{"unknown escape", "admin:\n  address: \"\\q\"\n", `s.yaml:2:14: found unknown escape character 'q'`},
		{"escape byte", "admin:\n  \x1b[31m: x\n", `s.yaml:2:3: control character U+001B is not allowed`},
		{"C1 control", "admin: { address: \"x\u0085\u0090\" }\n", `s.yaml:1:22: control character U+0090 is not allowed`},
		{"byte not UTF-8", "admin:\n  address: a\xffb\n", `s.yaml:2:13: byte 0xff is not UTF-8`},
		// Hostile input: the locator must not take the file's bytes into
		// the message as they are, nor fail on bytes that are not UTF-8.
		{"NUL byte", "admin:\n  address: \x00\n", `s.yaml:2:12: control character U+0000 is not allowed`},
		{"invalid UTF-8 key", "admin:\n  \xff\xfe: 1\n\t- x\n", `s.yaml:2:3: byte 0xff is not UTF-8`},
		{"BOM then an error", "\ufefflisteners: [\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tt.src), nil)
			if err == nil {
				t.Fatal("got no error, want a syntax error")
			}
			got := err.Error()
			if tt.want != "" && got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			for _, r := range got {
				if r < 0x20 || r == 0x7f || r == 0xfffd {
					t.Errorf("message %q holds %U", got, r)
				}
			}
		})
	}
}

// TestSyntaxErrorKeepsDuplicateKeysForTheDecoder checks that a file whose
// only fault is a duplicate key is reported by the decoder, with both
// places, and that one with a duplicate key and a later syntax error is
// reported at the syntax error.
func TestSyntaxErrorKeepsDuplicateKeysForTheDecoder(t *testing.T) {
	_, err := Parse("s.yaml", []byte("admin: {}\nadmin: {}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), `s.yaml:2:1: duplicate key "admin" (first at line 1)`) {
		t.Errorf("got %v, want the decoder's duplicate key error", err)
	}
	_, err = Parse("s.yaml", []byte("admin: {}\nadmin: {}\nlisteners: [\n"), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "s.yaml:3:") {
		t.Errorf("got %v, want the syntax error on line 3", err)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"address", "balancer", "endpoints", "health", "name", "outlier", "protocol", "tls", "weight"}
	tests := []struct{ word, want string }{
		{"balancr", "balancer"},    // a letter dropped
		{"ballancer", "balancer"},  // one added
		{"balancre", "balancer"},   // two swapped
		{"wieght", "weight"},       // two swapped
		{"adress", "address"},      // one dropped
		{"helth", "health"},        // one dropped, short word
		{"tsl", "tls"},             // a swap in a three-letter word
		{"nme", "name"},            // one dropped from four letters
		{"balance", "balancer"},    // one dropped at the end
		{"protocols", "protocol"},  // one added at the end
		{"colour", ""},             // nothing near
		{"tl", "tls"},              // two letters, one edit
		{"", ""},                   // nothing typed
		{"x", ""},                  // one letter
		{"endpointsendpoints", ""}, // far longer
		{"bal\x00ncer", "balancer"},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			if got := Suggest(tt.word, known); got != tt.want {
				t.Errorf("Suggest(%q): got %q, want %q", tt.word, got, tt.want)
			}
		})
	}
	t.Run("a tie suggests nothing", func(t *testing.T) {
		if got := Suggest("cat", []string{"bat", "hat"}); got != "" {
			t.Errorf("got %q, want none", got)
		}
	})
}
