// Command load sends HTTP/1.1, HTTP/2 or HTTP/3 load to one URL and prints
// the result as JSON on stdout, with a progress line on stderr while it
// runs. Closed-loop by default; -rate makes it open-loop, with latencies
// measured from each request's due time.
//
//	load -url http://127.0.0.1:8080/1k -c 32 -d 10s
//	load -url https://127.0.0.1:8443/1k -proto h2 -c 4 -streams 8 -d 10s
//	load -url https://127.0.0.1:8443/1k -proto h3 -rate 5000 -d 10s
//	load -url 'http://127.0.0.1:8080/0?id={seq}' -method POST -body-file order.json -H 'Content-Type: application/json'
//
// In an HTTP/1.1 load every {seq} in the query, the header values and the
// body becomes a number that no other request of the run has.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/portcullis-gw/portcullis/bench/load"
)

func main() {
	var cfg load.Config
	var quiet, mark bool
	flag.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080/1k", "target URL")
	flag.StringVar(&cfg.Proto, "proto", "h1", "protocol: h1, h2, h2c or h3")
	flag.IntVar(&cfg.Conns, "c", 32, "connections")
	flag.IntVar(&cfg.Streams, "streams", 1, "requests in flight per connection (h2, h2c, h3)")
	flag.DurationVar(&cfg.Duration, "d", 10*time.Second, "how long to send requests")
	flag.Float64Var(&cfg.Rate, "rate", 0, "requests per second of an open-loop run; 0 runs closed-loop")
	flag.StringVar(&cfg.Method, "method", "GET", "GET or POST")
	flag.IntVar(&cfg.BodySize, "body", 0, "bytes of the POST body")
	bodyFile := flag.String("body-file", "", "file whose content is the POST body (instead of -body zero bytes)")
	flag.Func("H", "extra request header line 'Name: value' (repeatable)", func(v string) error {
		cfg.Header = append(cfg.Header, v)
		return nil
	})
	flag.IntVar(&cfg.Expect, "expect", 0, "the status that counts as an answer (default: any below 400)")
	flag.BoolVar(&cfg.NewConn, "new-conn", false, "a new connection (and TLS handshake) per request; h1 only")
	flag.IntVar(&cfg.Idle, "idle", 0, "idle keep-alive connections to hold open during the run")
	flag.StringVar(&cfg.ServerName, "sni", "", "TLS server name (default: the URL's host)")
	flag.StringVar(&cfg.CAFile, "cacert", "", "PEM file of the CA to verify the server with (default: no verification)")
	flag.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "timeout of each request")
	flag.StringVar(&cfg.Proxy, "proxy", "", "forward proxy host:port: each connection is a CONNECT tunnel through it (h1)")
	flag.BoolVar(&quiet, "q", false, "no progress line")
	flag.BoolVar(&mark, "mark", false, "print a line on stderr when the measured part starts and ends")
	flag.Parse()
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "load: %v\n", err)
			os.Exit(2)
		}
		cfg.Body = b
	}
	if mark {
		cfg.OnStart = func() { fmt.Fprintln(os.Stderr, load.StartMark) }
		cfg.OnStop = func() { fmt.Fprintln(os.Stderr, load.StopMark) }
	}
	if !quiet {
		cfg.Progress = os.Stderr
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	res, err := load.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(1)
	}
}
