// Command bareproxy is the plainest Go reverse proxy: net/http's
// httputil.ReverseProxy with a keep-alive pool to one upstream and an access
// log line per request. It is the bench's Go baseline: what the gateway
// costs beyond it is the price of its routing, plugins and logging.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portcullis-gw/portcullis/bench/serve"
)

func main() {
	var o serve.Options
	upstream := flag.String("upstream", "http://127.0.0.1:9000", "upstream base URL")
	logPath := flag.String("access-log", "", "access log file (one line per request); empty logs nothing")
	flag.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "plain HTTP/1.1 and h2c address")
	flag.StringVar(&o.TLSAddr, "tls-addr", "", "TLS address (HTTP/1.1, HTTP/2; HTTP/3 on UDP with -h3)")
	flag.StringVar(&o.CertFile, "cert", "", "PEM certificate for -tls-addr")
	flag.StringVar(&o.KeyFile, "key", "", "PEM key for -tls-addr")
	flag.BoolVar(&o.H3, "h3", false, "also serve HTTP/3 on -tls-addr")
	flag.Parse()
	if err := run(*upstream, *logPath, o); err != nil {
		fmt.Fprintf(os.Stderr, "bareproxy: %v\n", err)
		os.Exit(1)
	}
}

func run(upstream, logPath string, o serve.Options) error {
	target, err := url.Parse(upstream)
	if err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	var h http.Handler = proxy
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("access log: %w", err)
		}
		defer f.Close()
		h = logged(proxy, f)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return serve.Run(ctx, h, o)
}
