// Command backend is the bench's upstream: fixed-size bodies by path (/1k,
// /64k, /1m) and POST /echo, on plain HTTP/1.1 with h2c, and with -tls-addr
// also on TLS (HTTP/1.1, HTTP/2) and HTTP/3, for the backend-alone
// baseline of the TLS scenarios.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/portcullis-gw/portcullis/bench/backend"
	"github.com/portcullis-gw/portcullis/bench/serve"
)

func main() {
	var o serve.Options
	flag.StringVar(&o.Addr, "addr", "127.0.0.1:9000", "plain HTTP/1.1 and h2c address")
	flag.StringVar(&o.TLSAddr, "tls-addr", "", "TLS address (HTTP/1.1, HTTP/2; HTTP/3 on UDP with -h3)")
	flag.StringVar(&o.CertFile, "cert", "", "PEM certificate for -tls-addr")
	flag.StringVar(&o.KeyFile, "key", "", "PEM key for -tls-addr")
	flag.BoolVar(&o.H3, "h3", false, "also serve HTTP/3 on -tls-addr")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := serve.Run(ctx, backend.Handler(), o); err != nil {
		fmt.Fprintf(os.Stderr, "backend: %v\n", err)
		os.Exit(1)
	}
}
