package waf

import (
	"io/fs"
	"strings"
	"sync"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"

	"github.com/portcullis-gw/portcullis/waf/internal/transform"
)

// plainCases are plain values built to look like attacks as far as plain
// bytes allow, or to sit at the edges of the transformations.
var plainCases = []string{
	"", " ", ".", "..", "...", "-", "--", "---", "_", "@", " - ", "a--b", "a.b.c", ". .", "-- -", "0", "1", "a",
	"etc passwd", "union select password from users", "1 or 1", "1 OR 1-1", "admin@example.com", "select",
	"script", "alert", "javascript", "onerror", "document.cookie", "window.location", "eval", "exec", "wget",
	"bin sh", "cmd.exe", "powershell -enc", "SELECT-1", "x-forwarded-for", "Customer 42", "SKU-12-04", "12.34",
	"true", "null", "jndi ldap", "ls -la", "cat etc passwd", "sleep 5", "benchmark", "waitfor delay",
	"information_schema.tables", "pg_sleep", "xp_cmdshell", "char 65", "0x41414141", "@@version", "a@b.c-d_e",
	"php", "system", "passthru", "base64_decode", "sh -c id", "nc -e", "..-..", "_-_-_", "@-@", "...etc...passwd",
}

// plainTokens adds to plainCases the plain runs of the values of the
// CRS's regression tests and the phrases of its data files, alone and in
// pairs: the words its rules look for, without the punctuation that makes
// them attacks.
func plainTokens(t testing.TB) []string {
	values, err := crsValues()
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.data")
	if err != nil || len(files) == 0 {
		t.Fatalf("the CRS's data files: %v", err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(coreruleset.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, strings.Split(string(b), "\n")...)
	}
	seen := map[string]bool{}
	out := append([]string(nil), plainCases...)
	var prev string
	for _, v := range values {
		for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r > 0x7f || !plainByte[r] }) {
			for _, c := range []string{tok, prev + " " + tok, prev + tok, strings.ToUpper(tok)} {
				if !seen[c] && plain(c) {
					seen[c] = true
					out = append(out, c)
				}
			}
			prev = tok
		}
	}
	return out
}

// skippingOperators are the CRS's rules written anew (at paranoia level 4)
// that skip plain values, built once.
var skippingOperators = sync.OnceValues(func() ([]*transformed, int) {
	var mu sync.Mutex
	var all, skip []*transformed
	f := func(o *transformed) {
		mu.Lock()
		defer mu.Unlock()
		all = append(all, o)
		if o.skipPlain {
			skip = append(skip, o)
		}
	}
	transformedBuilt.Store(&f)
	defer transformedBuilt.Store(nil)
	if _, err := crsEngineOf(false); err != nil {
		panic(err)
	}
	return skip, len(all)
})

// TestPlainSkipSound evaluates every rule of the CRS that skips plain
// values on plain values, with neither the skip nor the prefilter of the
// strings its pattern needs (the expression itself, or the phrases): none
// may match. The skip is sound only if so.
func TestPlainSkipSound(t *testing.T) {
	skip, all := skippingOperators()
	if len(skip) < 20 || all < 100 {
		t.Fatalf("%d of %d rules written anew skip plain values, want a good part of them", len(skip), all)
	}
	values := plainTokens(t)
	if testing.Short() || raceDetector {
		// A sample; .ci/run runs them all without -race.
		sample := values[:0:0]
		for i := 0; i < len(values); i += 23 {
			sample = append(sample, values[i])
		}
		values = sample
	}
	tx := crsEngine(t, false).NewTransaction()
	defer tx.Close()
	ts := tx.(plugintypes.TransactionState)
	for _, o := range skip {
		for _, v := range values {
			if bare(t, o, ts, v) {
				t.Fatalf("a rule that skips plain values matches %q", v)
			}
		}
	}
	t.Logf("%d of %d rules written anew skip plain values; %d plain values checked against each", len(skip), all, len(values))
}

// FuzzPlainSkipSound is TestPlainSkipSound on values the fuzzer makes,
// each byte read as one of the plain ones.
func FuzzPlainSkipSound(f *testing.F) {
	f.Add([]byte("union select"))
	f.Add([]byte("etc passwd"))
	skip, _ := skippingOperators()
	w := crsEngine(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		v := plainFrom(b)
		tx := w.NewTransaction()
		defer tx.Close()
		for _, o := range skip {
			if bare(t, o, tx.(plugintypes.TransactionState), v) {
				t.Fatalf("a rule that skips plain values matches %q", v)
			}
		}
	})
}

// bare runs o's transformations and its expression or phrases on v,
// without the shortcuts.
func bare(t testing.TB, o *transformed, tx plugintypes.TransactionState, v string) bool {
	for _, f := range o.fns {
		if out, _, err := f(v); err == nil {
			v = out
		}
	}
	switch op := o.op.(type) {
	case *rx:
		return op.re.MatchString(v) // a plain value is UTF-8
	case *pm:
		return op.matcher.Iter(v).Next() != nil
	}
	t.Fatalf("a rule that skips plain values has operator %T", o.op)
	return false
}

// plainFrom reads each byte of b as a plain byte.
func plainFrom(b []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._@-"
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(out)
}

// TestPlainClosed checks that each transformation of plainClosed turns the
// plain values into plain values, and that no other byte is plain.
func TestPlainClosed(t *testing.T) {
	for _, v := range plainCases {
		checkPlainClosed(t, v)
	}
	for c := 0; c < 256; c++ {
		want := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(" ._@-", rune(c))
		if plainByte[c] != want {
			t.Errorf("byte %#x: plain %v", c, plainByte[c])
		}
	}
	for name := range plainClosed {
		if _, ok := transform.Get(name); !ok {
			t.Errorf("no transformation %q", name)
		}
	}
}

func FuzzPlainClosed(f *testing.F) {
	for _, v := range plainCases {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkPlainClosed(t, plainFrom(b)) })
}

func checkPlainClosed(t *testing.T, v string) {
	t.Helper()
	for name := range plainClosed {
		fn, _ := transform.Get(name)
		if out, _, err := fn(v); err == nil && !plain(out) {
			t.Fatalf("%s turns the plain %q into %q", name, v, out)
		}
	}
}
