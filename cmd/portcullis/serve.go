package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway"
	"github.com/portcullis-gw/portcullis/gateway/accesslog"
	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

func serve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("PORTCULLIS_CONFIG"), "routes file (default: the embedded demo)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	drainDelay := fs.Duration("drain-delay", 5*time.Second, "on SIGTERM, how long to keep accepting after /readyz turns false, so the load balancer stops sending first")
	drainTimeout := fs.Duration("drain-timeout", 30*time.Second, "on SIGTERM, how long in-flight requests and WebSockets may take to finish")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "portcullis: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log, err := newLogger(stderr, *level)
	if err != nil {
		fmt.Fprintln(stderr, "portcullis:", err)
		return 2
	}
	// The WAF's metrics join the gateway's registry, made here so that
	// the plugin has it before the routes file is loaded.
	m := metrics.New()
	wafPlugin := waf.New(waf.Options{Metrics: m.Registry()})
	reg, err := registry(wafPlugin)
	if err != nil {
		log.Error().Err(err).Msg("plugin registry")
		return 1
	}
	var cfg *routes.Config
	if *configPath == "" {
		cfg, err = routes.Parse("demo.yaml", demoYAML, reg)
	} else {
		cfg, err = routes.Load(*configPath, reg)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	logWarnings(log, cfg)
	access, err := accesslog.New(accesslog.Options{
		Format: cfg.File.AccessLog.Format,
		Text:   cfg.File.AccessLog.Text,
		Path:   cfg.File.AccessLog.Path,
	})
	if err != nil {
		cfg.Close()
		log.Error().Err(err).Msg("access log")
		return 1
	}
	defer access.Close()
	gw, err := gateway.New(cfg, gateway.Options{Log: log, AccessLog: access, Metrics: m, DrainTimeout: *drainTimeout})
	if err != nil {
		cfg.Close()
		log.Error().Err(err).Msg("gateway")
		return 1
	}
	if err := gw.Start(); err != nil {
		cfg.Close()
		log.Error().Err(err).Msg("start")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	reopenOnSignal(ctx, log, access, wafPlugin)
	if *configPath != "" {
		if err := watch(ctx, log, gw, *configPath, cfg, reg); err != nil {
			log.Error().Err(err).Msg("watching the routes file; reload on SIGHUP only")
		}
	}
	// Only now, with every signal handled, is the process announced.
	announce(log, gw, cfg, *configPath)
	<-ctx.Done()
	stop() // a second signal now ends the process at once
	log.Info().Dur("delay", *drainDelay).Dur("timeout", *drainTimeout).Msg("draining: not ready, finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), *drainDelay+*drainTimeout)
	defer cancel()
	if err := gw.Drain(sctx, *drainDelay); err != nil {
		log.Error().Err(err).Msg("shutdown")
		return 1
	}
	log.Info().Msg("stopped")
	return 0
}

// announce says what listens where, with a URL to try.
func announce(log zerolog.Logger, gw *gateway.Gateway, cfg *routes.Config, path string) {
	src := path
	if src == "" {
		src = "embedded demo"
	}
	log.Info().Str("config", src).Str("version", versionString()).Msg("portcullis started")
	for _, l := range cfg.File.Listeners {
		scheme := "http"
		if l.TLS != nil {
			scheme = "https"
		}
		addr := gw.Addr(l.Name).String()
		if host, port, err := net.SplitHostPort(addr); err == nil && (host == "::" || host == "0.0.0.0") {
			addr = net.JoinHostPort("localhost", port)
		}
		log.Info().Str("listener", l.Name).Str("url", scheme+"://"+addr+"/").
			Str("protocols", strings.Join(l.Protocols, ",")).Msg("listening")
	}
	if a := gw.AdminAddr(); a != nil {
		log.Info().Str("url", "http://"+a.String()+"/").Msg("admin listening")
	}
}

// newLogger writes the gateway's own events to w: readable lines on a
// terminal, JSON otherwise (for log collectors).
func newLogger(w io.Writer, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Logger{}, fmt.Errorf("bad --log-level %q", level)
	}
	out := w
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), nil
}

// reopenOnSignal reopens the access-log file and the WAF's audit log files
// on SIGUSR1, as log rotators ask. The signal is taken even when the logs go
// to stdout, so a rotator aimed at the wrong process cannot kill it.
func reopenOnSignal(ctx context.Context, log zerolog.Logger, access *accesslog.Logger, w *waf.Plugin) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(usr1)
		for {
			select {
			case <-ctx.Done():
				return
			case <-usr1:
				if err := access.Reopen(); err != nil {
					log.Error().Err(err).Msg("access log reopen failed; writing on to the old file")
				}
				if err := w.ReopenAuditLogs(); err != nil {
					log.Error().Err(err).Msg("WAF audit log reopen failed; writing on to the old file")
				}
			}
		}
	}()
}

// logWarnings logs the routes file's warnings, which do not stop it from
// serving.
func logWarnings(log zerolog.Logger, cfg *routes.Config) {
	for _, w := range cfg.Warnings() {
		log.Warn().Str("config", cfg.Source).Msg(w)
	}
}
