package waf_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins/plugintest"
	"github.com/portcullis-gw/portcullis/waf"
)

// wfuzzDir holds the attack lists of Debian's wfuzz package, read where it
// is installed (they are GPL-2, so they are not copied here).
var wfuzzDir = envOr("WFUZZ_DIR", "/usr/share/wfuzz/wordlist/Injections")

// TestEfficacy replays a corpus of attacks and of benign values, each put
// in a query parameter, a form field and a JSON string, through the stock
// CRS at paranoia levels 1 and 2 and through the default profile, and
// reports how many of each every profile refuses. The default profile must
// catch at least what stock PL1 catches, with no more false positives.
//
// The corpus: waf/testdata/efficacy (written for this test) and, when
// Debian's wfuzz package is installed, its injection lists.
func TestEfficacy(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("the efficacy corpus takes tens of seconds of CPU; it runs without -short and -race")
	}
	attacks := readCorpus(t, filepath.Join("testdata", "efficacy", "attacks.txt"), true)
	benign := readCorpus(t, filepath.Join("testdata", "efficacy", "benign.txt"), false)
	heldOut := readCorpus(t, filepath.Join("testdata", "efficacy", "benign-heldout.txt"), false)
	if files, _ := filepath.Glob(filepath.Join(wfuzzDir, "*.txt")); len(files) > 0 {
		for _, f := range files {
			if filepath.Base(f) == "All_attack.txt" || filepath.Base(f) == "bad_chars.txt" {
				continue // the others' union, and single bytes that are no attack
			}
			attacks = append(attacks, readCorpus(t, f, false)...)
		}
	} else {
		t.Logf("without Debian's wfuzz package (apt-get install wfuzz), only the project's own corpus runs")
	}
	section := `  profiles:
    stock-pl1: { crs: { paranoia: 1, promote: [] } }
    stock-pl2: { crs: { paranoia: 2 } }
`
	src := routesFile(section, "stock-pl1")
	shared(t, src)
	profiles := []string{"stock-pl1", "stock-pl2", "default"}
	caught := make(map[string]map[string][2]int) // profile → class → {refused, total}
	falsePos := make(map[string][]string)
	heldOutFP := make(map[string][]string)
	for _, name := range profiles {
		h, err := plugin.Explainer(sectionOf(t, src), name)
		if err != nil {
			t.Fatal(err)
		}
		caught[name] = make(map[string][2]int)
		for _, a := range attacks {
			for _, raw := range placements(a.value) {
				c := caught[name][a.class]
				c[1]++
				if refused(t, h, raw) {
					c[0]++
				}
				caught[name][a.class] = c
			}
		}
		for _, set := range []struct {
			values []corpusValue
			fp     map[string][]string
		}{{benign, falsePos}, {heldOut, heldOutFP}} {
			for _, b := range set.values {
				for i, raw := range placements(b.value) {
					if refused(t, h, raw) {
						set.fp[name] = append(set.fp[name], fmt.Sprintf("%s in %s", strconv.Quote(b.value), []string{"query", "form", "json"}[i]))
					}
				}
			}
		}
		h.Close()
	}
	benignTotal, heldOutTotal := 3*len(benign), 3*len(heldOut)
	var report strings.Builder
	fmt.Fprintf(&report, "\n| profile | attacks refused | benign refused | held-out benign refused |\n|---|---|---|---|\n")
	totals := make(map[string]int)
	for _, name := range profiles {
		refusedN, total := 0, 0
		for _, c := range caught[name] {
			refusedN += c[0]
			total += c[1]
		}
		totals[name] = refusedN
		fmt.Fprintf(&report, "| %s | %d of %d (%.1f%%) | %d of %d (%.1f%%) | %d of %d (%.1f%%) |\n", name, refusedN, total, pct(refusedN, total),
			len(falsePos[name]), benignTotal, pct(len(falsePos[name]), benignTotal),
			len(heldOutFP[name]), heldOutTotal, pct(len(heldOutFP[name]), heldOutTotal))
	}
	classes := make([]string, 0, len(caught["default"]))
	for c := range caught["default"] {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	fmt.Fprintf(&report, "\n| class | %s |\n|---|---|---|---|\n", strings.Join(profiles, " | "))
	for _, c := range classes {
		fmt.Fprintf(&report, "| %s", c)
		for _, name := range profiles {
			fmt.Fprintf(&report, " | %d/%d", caught[name][c][0], caught[name][c][1])
		}
		report.WriteString(" |\n")
	}
	for _, name := range profiles {
		fmt.Fprintf(&report, "\nbenign values %s refuses: %s\n", name, strings.Join(append(falsePos[name], heldOutFP[name]...), "; "))
	}
	t.Log(report.String())
	if totals["default"] < totals["stock-pl1"] || len(falsePos["default"])+len(heldOutFP["default"]) > len(falsePos["stock-pl1"])+len(heldOutFP["stock-pl1"]) {
		t.Errorf("the default profile refuses %d attacks and %d benign requests; stock PL1 %d and %d: the default must do at least as well",
			totals["default"], len(falsePos["default"]), totals["stock-pl1"], len(falsePos["stock-pl1"]))
	}
}

type corpusValue struct{ class, value string }

// readCorpus reads one value a line, skipping blanks and # comments;
// classed lines read "class: value". A file of wfuzz's is one class, named
// after the file.
func readCorpus(t *testing.T, path string, classed bool) []corpusValue {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusValue
	class := "wfuzz-" + strings.TrimSuffix(strings.ToLower(filepath.Base(path)), ".txt")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "# ") {
			continue
		}
		v := corpusValue{class: class, value: line}
		if classed {
			c, rest, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("%s: %q has no class", path, line)
			}
			v = corpusValue{class: c, value: rest}
		} else if strings.HasPrefix(path, wfuzzDir) && len(line) < 4 {
			continue // a lone quote or dash is no attack by itself
		}
		out = append(out, v)
	}
	return out
}

var preEncoded = regexp.MustCompile(`%[0-9a-fA-F]{2}`)

// placements are three requests that carry v: in a query parameter, in a
// form field and in a JSON string. A value that holds percent-escapes is
// taken as written for a URL, as attack lists write them, and goes into
// the query and the form as it is (with only the bytes a request line
// cannot hold escaped), and decoded into the JSON.
func placements(v string) []string {
	enc, plain := url.QueryEscape(v), v
	if preEncoded.MatchString(v) {
		enc = escapeUnsafe(v)
		if d, err := url.PathUnescape(v); err == nil {
			plain = d
		}
	}
	const head = "Host: shop.example\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
		"Accept: text/html,application/json;q=0.9,*/*;q=0.8\r\nAccept-Language: en-GB,en;q=0.5\r\n"
	form := "name=Jane&message=" + enc
	js, _ := json.Marshal(map[string]string{"name": "Jane", "comment": plain})
	return []string{
		"GET /search?q=" + enc + " HTTP/1.1\r\n" + head + "\r\n",
		"POST /contact HTTP/1.1\r\n" + head + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + strconv.Itoa(len(form)) + "\r\n\r\n" + form,
		"POST /api/comments HTTP/1.1\r\n" + head + "Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(js)) + "\r\n\r\n" + string(js),
	}
}

// escapeUnsafe escapes the bytes a request target cannot hold.
func escapeUnsafe(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == '#' || c == '&' || c == '+' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func refused(t *testing.T, h *waf.Handler, raw string) bool {
	t.Helper()
	v, err := h.Explain(plugintest.Parse(t, raw))
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return !v.Passed()
}

func pct(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
