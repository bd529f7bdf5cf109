package routes

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and every
// failure must be Errors, in order, each with a message and either a
// position (line and column from 1) or none (line 0, about the whole file).
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/good/*.yaml", "testdata/bad/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	reg, _ := testRegistry(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, reg)
		if err == nil {
			if err := cfg.Close(); err != nil {
				t.Errorf("Close: got %v, want nil", err)
			}
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("got %T %v, want Errors", err, err)
		}
		for i, e := range es {
			switch {
			case e.File != "fuzz.yaml" || e.Msg == "":
				t.Errorf("got error %+v, want file fuzz.yaml and a message", e)
			case e.Line < 0 || e.Line == 0 && e.Col != 0 || e.Line > 0 && e.Col < 1:
				t.Errorf("got position %d:%d in %q, want line and column from 1, or 0:0", e.Line, e.Col, e)
			case i > 0 && (e.Line < es[i-1].Line || e.Line == es[i-1].Line && e.Col < es[i-1].Col):
				t.Errorf("got %q after %q, want file order", e, es[i-1])
			}
		}
	})
}

// BenchmarkParse measures a load of the full example, plugins built.
func BenchmarkParse(b *testing.B) {
	dir := fixtureDir(b)
	data, err := os.ReadFile("testdata/good/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	name := filepath.Join(dir, "full.yaml")
	reg, _ := testRegistry(b)
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := Parse(name, data, reg)
		if err != nil {
			b.Fatal(err)
		}
		cfg.Close()
	}
}
