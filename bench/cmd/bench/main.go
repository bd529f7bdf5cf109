// Command bench runs the bench harness: the gateway against nginx, HAProxy,
// Caddy, a bare Go proxy and the backend alone, and its WAF against nginx
// with ModSecurity, on loopback, in interleaved rounds, and writes the
// report to bench/results/<date>-<scenarios>.md (and .json, and an SVG plot
// per scenario).
//
//	go run ./bench/cmd/bench                          # every scenario, 3 rounds × 5s
//	go run ./bench/cmd/bench -scenario h1 -rounds 5   # one scenario
//	go run ./bench/cmd/bench -contenders backend,portcullis,nginx
//	go run ./bench/cmd/bench -scenario waf            # the WAF against nginx with ModSecurity
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/portcullis-gw/portcullis/bench/harness"
	"github.com/portcullis-gw/portcullis/bench/report"
)

func main() {
	var o harness.Options
	scen := flag.String("scenario", "all", "scenarios, comma-separated: h1,h2,h3,tls-new,up,down,conns,reload, waf (waf-get-pl1,waf-json-pl1,waf-attack-pl1 and the same with pl2), policy,egress, or all")
	cont := flag.String("contenders", "", "contenders, comma-separated (default all): backend,portcullis,nginx,nginx-modsec,nginx-modsec-crs3,haproxy,caddy,bareproxy")
	out := flag.String("out", "", "directory of the report (default bench/results in the repository)")
	flag.IntVar(&o.Rounds, "rounds", 3, "measured rounds per contender and scenario")
	flag.DurationVar(&o.Duration, "d", 5*time.Second, "length of each round")
	flag.DurationVar(&o.Warmup, "warmup", 2*time.Second, "warm-up run per contender before the rounds")
	flag.IntVar(&o.Idle, "idle", 10_000, "idle keep-alive connections held in the conns scenario")
	flag.DurationVar(&o.ReloadEvery, "reload-every", time.Second, "interval between reloads in the reload scenario")
	flag.StringVar(&o.LoadCPUs, "load-cpus", "0", "CPUs of the load generator (taskset list)")
	flag.StringVar(&o.ServerCPUs, "server-cpus", "1", "CPUs of the proxy and the backend (taskset list)")
	flag.BoolVar(&o.Pin, "pin", true, "pin with taskset")
	flag.BoolVar(&o.CrossCheck, "crosscheck", true, "also run wrk (h1) and h2load (h2) where installed")
	flag.Float64Var(&o.WidePct, "wide", 10, "flag a spread wider than this percentage of the median")
	flag.Parse()
	if err := run(o, *scen, *cont, *out); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(o harness.Options, scen, cont, out string) error {
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	o.Repo, o.Log = repo, os.Stderr
	o.Scenarios, o.Contenders = list(scen), list(cont)
	o.Command = strings.Join(append([]string{"go run ./bench/cmd/bench"}, os.Args[1:]...), " ")
	if out == "" {
		out = filepath.Join(repo, "bench", "results")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	rep, err := harness.Run(ctx, o)
	if err != nil {
		return err
	}
	md, err := report.Write(out, rep)
	if err != nil {
		return err
	}
	fmt.Println(md)
	return nil
}

// list splits a comma-separated flag, dropping empty items.
func list(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// repoRoot finds the module root above the working directory, where the
// harness builds its programs.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/portcullis-gw/portcullis\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the portcullis repository: run it from there")
		}
		dir = parent
	}
}
