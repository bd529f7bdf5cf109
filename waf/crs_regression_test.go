package waf_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreruleset/albedo/server"
	"github.com/coreruleset/go-ftw/v2/config"
	"github.com/coreruleset/go-ftw/v2/output"
	"github.com/coreruleset/go-ftw/v2/runner"
	"github.com/coreruleset/go-ftw/v2/test"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"

	"github.com/portcullis-gw/portcullis/gateway"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

// crsTestProfile is the profile the CRS's regression tests assume
// (coreruleset's tests/regression/README.md, as Coraza's own repository
// runs them): every paranoia level, detection only, the CRS's test
// settings (rule 900005), and rule 999999, which writes the X-CRS-Test
// header's value to the error log as the marker the runner looks for and
// keeps every other rule off that marker request. Responses are inspected,
// and the limits are high enough for every test's request to reach the
// rules.
const crsTestProfile = `
      mode: detect
      crs: { paranoia: 4 }
      request_body_limit: 1MiB
      limits: { inspected_bytes: 1MiB, args: 100000, depth: 1000 }
      response: { inspect: true, mime_types: [text/plain, text/html, application/json] }
      rules_before_crs:
        - |
          SecAction "id:900005,phase:1,nolog,pass,ctl:ruleEngine=DetectionOnly,ctl:ruleRemoveById=910000,\
            setvar:tx.blocking_paranoia_level=4,setvar:tx.crs_validate_utf8_encoding=1,\
            setvar:tx.arg_name_length=100,setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,\
            setvar:tx.max_num_args=255,setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"
        - |
          SecRule REQUEST_HEADERS:X-CRS-Test "@rx ^.*$" \
            "id:999999,phase:1,pass,t:none,log,msg:'X-CRS-Test %{MATCHED_VAR}',ctl:ruleRemoveById=1-999998"
`

// TestCRSRegression runs the CRS's own regression tests, the YAML files
// that ship with the embedded CRS, with go-ftw against the gateway on
// loopback, in front of albedo, the backend the tests are written for.
// Every test runs; those listed in testdata/ftw-overrides.yaml are
// expected to fail, each for the reason it gives, and one listed there
// that passes fails this test, so that the list stays exact.
//
// It takes minutes, and several times as long under the race detector,
// whose run skips it: .ci/run runs it on its own without.
func TestCRSRegression(t *testing.T) {
	if raceEnabled {
		t.Skip("run without -race: go test ./waf -run TestCRSRegression")
	}
	if testing.Short() {
		t.Skip("minutes long")
	}
	dir := t.TempDir()
	errorPath := filepath.Join(dir, "error.log")
	errorLog, err := os.Create(errorPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { errorLog.Close() })

	base := startCRSGateway(t, dir, errorLog)
	host, portText, _ := net.SplitHostPort(base)
	port, _ := strconv.Atoi(portText)

	var tests []*test.FTWTest
	err = fs.WalkDir(crstests.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := fs.ReadFile(crstests.FS, path)
		if err != nil {
			return err
		}
		ft, err := test.GetTestFromYaml(b, path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		tests = append(tests, ft)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) < 300 {
		t.Fatalf("found %d test files in the CRS module, want its 300 and more", len(tests))
	}

	cfg, err := config.NewConfigFromFile(filepath.Join("testdata", "ftw-overrides.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.LogFile = errorPath
	cfg.TestOverride.Overrides.DestAddr = &host
	cfg.TestOverride.Overrides.Port = &port
	rc := config.NewRunnerConfiguration(cfg)
	rc.ReadTimeout = 30 * time.Second // generous for a loaded machine
	if err := rc.LoadPlatformOverrides(filepath.Join("testdata", "ftw-overrides.yaml")); err != nil {
		t.Fatal(err)
	}

	// go-ftw logs through zerolog's global logger: warnings and worse go
	// to the test's log, the rest nowhere. Albedo logs each request
	// through slog's.
	level := zerolog.WarnLevel
	if os.Getenv("CRS_TESTS") != "" {
		level = zerolog.TraceLevel
	}
	zlog.Logger = zerolog.New(zerolog.ConsoleWriter{Out: testWriter{t}, NoColor: true}).Level(level)
	oldSlog := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { slog.SetDefault(oldSlog) })

	var out strings.Builder
	start := time.Now()
	rc.ShowOnlyFailed = true
	if only := os.Getenv("CRS_TESTS"); only != "" {
		// One can run some tests alone, by a pattern of their ids.
		rc.Include, rc.ShowOnlyFailed = regexp.MustCompile(only), false
	}
	res, err := runner.Run(rc, tests, output.NewOutput("plain", &out))
	if err != nil {
		t.Fatalf("%v; go-ftw's output:\n%s", err, out.String())
	}
	s := res.Stats
	run := len(s.Success) + len(s.Failed) + len(s.Ignored) + len(s.ForcedPass) + len(s.ForcedFail)
	t.Logf("CRS regression: %d tests run in %s: %d passed, %d expected failures, %d failed; %d skipped",
		run, time.Since(start).Round(time.Second), len(s.Success), len(s.Ignored), len(s.Failed), len(s.Skipped))
	if len(s.Failed) > 0 {
		t.Errorf("%d tests failed: %v", len(s.Failed), s.Failed)
	}
	if len(s.Skipped) > 0 && rc.Include == nil {
		t.Errorf("%d tests skipped, want every one run: %v", len(s.Skipped), s.Skipped)
	}
	// Every expected failure is one: an entry whose tests now pass goes.
	// A run of some tests alone cannot tell.
	for re, reason := range cfg.TestOverride.Ignore {
		if rc.Include == nil && !slices.ContainsFunc(s.Ignored, re.MatchString) {
			t.Errorf("%q is listed as an expected failure (%s) but passed: remove it from the list", (*regexp.Regexp)(re).String(), reason)
		}
	}
	if t.Failed() || os.Getenv("CRS_TESTS") != "" {
		t.Logf("go-ftw's output:\n%s", out.String())
		b, _ := os.ReadFile(errorPath)
		t.Logf("error log:\n%s", b)
		b, _ = os.ReadFile(filepath.Join(dir, "access.log"))
		t.Logf("access log:\n%s", b)
	}
}

// startCRSGateway starts the gateway on loopback, with the CRS's test
// profile on every route, in front of albedo; the WAF's error log goes to
// errorLog. It returns the listener's address.
func startCRSGateway(t *testing.T, dir string, errorLog io.Writer) string {
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	albedo := &http.Server{Handler: server.Handler()}
	go albedo.Serve(backend)
	t.Cleanup(func() { albedo.Close() })

	// The listener lets header names with '_' through, which the
	// gateway drops by default: the CRS tests send X_Filename and expect
	// the rules to see it, and the WAF is measured on what Coraza alone
	// is given.
	src := fmt.Sprintf(`admin: { address: "off" }
listeners: [{ name: web, address: "127.0.0.1:0", headers_with_underscores: allow }]
upstreams: [{ name: albedo, endpoints: ["%s"] }]
waf:
  profiles:
    crs-tests:%s
virtual_hosts:
  - name: site
    hosts: ["*"]
    plugins: [{ waf: crs-tests }]
    routes:
      - { name: all, upstream: albedo }
`, backend.Addr(), crsTestProfile)
	p := waf.New(waf.Options{ErrorLog: errorLog})
	reg, err := plugins.NewRegistry(p.Factory())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := routes.Parse("routes.yaml", []byte(src), reg)
	if err != nil {
		t.Fatal(err)
	}
	access, err := accesslog.New(accesslog.Options{Format: "json", Path: filepath.Join(dir, "access.log")})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(cfg, gateway.Options{Log: zerolog.Nop(), AccessLog: access})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
	})
	return gw.Addr("web").String()
}

// testWriter writes to a test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
