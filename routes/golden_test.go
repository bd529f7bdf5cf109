package routes

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/bad")

// TestGoldenBad loads each testdata/bad/*.yaml from a fixture directory and
// compares every error it reports, one a line, with the file's .golden.
// Refresh them with: go test ./routes -run Golden -update
func TestGoldenBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("got %d bad files, want at least 25", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			cfg, tr, _, err := loadFixture(t, file)
			if err == nil {
				cfg.Close()
				t.Fatalf("got no error, want the errors in %s.golden", name)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %T (%v), want Errors", err, err)
			}
			got := render(es, filepath.Base(file))
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("got errors:\n%s\nwant:\n%s", got, want)
			}
			// A rejected file holds nothing: every handler built was
			// closed once.
			tr.checkClosed(t, 1)
		})
	}
}

// render writes the errors one a line with the file named as base, so that
// the golden files do not depend on the fixture directory.
func render(es Errors, base string) string {
	var b strings.Builder
	for _, e := range es {
		c := *e
		c.File = base
		b.WriteString(c.Error())
		b.WriteByte('\n')
	}
	return b.String()
}
