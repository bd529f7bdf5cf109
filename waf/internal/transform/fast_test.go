package transform

import "testing"

// FuzzFastPaths checks that each transformation with a fast way past the
// values it leaves as they are gives what Coraza's version alone gives.
func FuzzFastPaths(f *testing.F) {
	for _, s := range []string{"", "a", "100%", "a+b", "%41", "\\u0041", "é", "abcdefgh\x80", "abcdefghi", "\x00%+\xff"} {
		f.Add(s)
	}
	pairs := map[string][2]Func{
		"urlDecode":     {byName["urldecode"], urlDecode},
		"urlDecodeUni":  {byName["urldecodeuni"], urlDecodeUni},
		"utf8toUnicode": {byName["utf8tounicode"], utf8ToUnicode},
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, p := range pairs {
			got, gotChanged, gotErr := p[0](s)
			want, wantChanged, wantErr := p[1](s)
			if got != want || gotChanged != wantChanged || (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%s(%q) = %q %v %v, want %q %v %v", name, s, got, gotChanged, gotErr, want, wantChanged, wantErr)
			}
		}
	})
}

func TestIsASCII(t *testing.T) {
	for s, want := range map[string]bool{"": true, "abc": true, "abcdefghijklmnop": true, "abcdefgh\x80": false, "\xffabcdefgh": false, "abcdefghijklmno\xc3": false} {
		if IsASCII(s) != want {
			t.Errorf("IsASCII(%q) = %v", s, !want)
		}
	}
}
