package waf

import (
	"reflect"
	"testing"
)

// TestSplit cuts SecLang as Coraza's parser does, keeping each directive's
// first line.
func TestSplit(t *testing.T) {
	tests := []struct {
		name, text string
		want       []chunk
	}{
		{"one line", `SecRule ARGS "@rx a" "id:1,deny"`, []chunk{{text: `SecRule ARGS "@rx a" "id:1,deny"`}}},
		{"comments and blanks", "# a\n\nSecAction \"id:1,pass\"\n  # b\nSecAction \"id:2,pass\"\n",
			[]chunk{{text: `SecAction "id:1,pass"`, line: 3}, {text: `SecAction "id:2,pass"`, line: 5}}},
		{"continuations", "SecRule ARGS \\\n  \"@rx a\" \\\n\n  \"id:1,deny\"\nSecAction \"id:2\"",
			[]chunk{{text: "SecRule ARGS \\\n  \"@rx a\" \\\n  \"id:1,deny\"", line: 1}, {text: `SecAction "id:2"`, line: 5}}},
		{"backticks", "SecDataset d `\na\nb\n`\nSecAction \"id:2\"",
			[]chunk{{text: "SecDataset d `\na\nb\n`", line: 1}, {text: `SecAction "id:2"`, line: 5}}},
		{"open at the end", "SecAction \"id:1\"\nSecRule ARGS \\", []chunk{{text: `SecAction "id:1"`, line: 1}, {text: `SecRule ARGS \`, line: 2}}},
		{"CRLF", "SecAction \"id:1\"\r\nSecAction \"id:2\"\r\n", []chunk{{text: `SecAction "id:1"`, line: 1}, {text: `SecAction "id:2"`, line: 2}}},
		{"nothing", "\n# only a comment\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := split(tt.text, "rules[0]", "")
			for i := range tt.want {
				tt.want[i].field = "rules[0]"
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestCompileLocates names the directive at fault among several, without
// the CRS (a profile's rules before it build in a moment).
func TestCompileLocates(t *testing.T) {
	chunks := []chunk{{text: "SecRuleEngine On"}}
	chunks = append(chunks, split("SecAction \"id:1,pass,nolog\"\nSecAction \"id:2,pass,nolog\"", "rules_before_crs[0]", "")...)
	chunks = append(chunks, split("SecAction \"id:3,pass,nolog\"\n\nSecAction \"id:4,pass,bogus\"", "rules_before_crs[1]", "")...)
	chunks = append(chunks, split(`SecAction "id:5,pass,nolog"`, "rules_before_crs[2]", "")...)
	_, err := compile(chunks, nil)
	want := `rules_before_crs[1]: line 3: failed to compile the directive "secaction": invalid action "bogus"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if _, err := compile(chunks[:4], nil); err != nil {
		t.Errorf("got %v building the good directives, want none", err)
	}
}
