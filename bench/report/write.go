package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Write writes the report into dir as <date>-<name>.md and .json, with one
// <date>-<name>-<scenario>.svg plot per scenario that ran, and returns the
// Markdown file's path.
func Write(dir string, r *Report) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	day := r.Date
	if len(day) >= 10 {
		day = day[:10]
	}
	base := day + "-" + r.Name
	for _, sc := range r.Scenarios {
		if sc.Skipped != "" || len(sc.Contenders) == 0 {
			continue
		}
		sc.Plot = base + "-" + sc.Name + ".svg"
		if err := writeWith(filepath.Join(dir, sc.Plot), func(f *os.File) error { return SVG(f, sc) }); err != nil {
			return "", err
		}
	}
	md := filepath.Join(dir, base+".md")
	if err := writeWith(md, func(f *os.File) error { return Markdown(f, r) }); err != nil {
		return "", err
	}
	err := writeWith(filepath.Join(dir, base+".json"), func(f *os.File) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	})
	return md, err
}

// writeWith creates path and fills it with fill, reporting the first error.
func writeWith(path string, fill func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("report %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// SetName is the file-name form of a scenario list: "all", or the names
// joined by dashes.
func SetName(scenarios []string, all bool) string {
	if all {
		return "all"
	}
	return strings.Join(scenarios, "-")
}
