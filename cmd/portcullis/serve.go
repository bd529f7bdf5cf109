package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway"
	"github.com/portcullis-gw/portcullis/gateway/metrics"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/plugins/authz"
	"github.com/portcullis-gw/portcullis/plugins/jwt"
	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/waf"
)

// serveOptions are serve's flags.
type serveOptions struct {
	configPath   string
	level        string
	drainDelay   time.Duration
	drainTimeout time.Duration
	stateDir     string
}

func serveFlags(fs *flag.FlagSet) func([]string, io.Writer, io.Writer) int {
	var o serveOptions
	fs.StringVar(&o.configPath, "config", os.Getenv("PORTCULLIS_CONFIG"), "the routes `file` to serve; by default $PORTCULLIS_CONFIG, and without either the embedded demo")
	fs.StringVar(&o.level, "log-level", "info", "the gateway's own log `level`: debug, info, warn or error (the access log is configured in the routes file)")
	fs.DurationVar(&o.drainDelay, "drain-delay", 5*time.Second, "on SIGTERM, how long to keep accepting after /readyz turns false, so that the load balancer stops sending first; SIGINT (Ctrl-C) skips it")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM or SIGINT, how long in-flight requests and WebSockets may take to finish")
	fs.StringVar(&o.stateDir, "state-dir", defaultStateDir(), "where the embedded demo keeps the development CA and the gateway's SVID for its mesh listener, made (0700) at the first start and reused after")
	return func(args []string, stdout, stderr io.Writer) int {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "portcullis serve: unexpected argument %q (the routes file goes after --config)\n", args[0])
			return 2
		}
		return serve(o, stderr)
	}
}

func serve(o serveOptions, stderr io.Writer) int {
	log, err := newLogger(stderr, o.level)
	if err != nil {
		fmt.Fprintln(stderr, "portcullis:", err)
		return 2
	}
	gc := tuneGC()
	// The WAF's metrics join the gateway's registry, made here so that
	// the plugin has it before the routes file is loaded.
	m := metrics.NewVersion(appVersion())
	wafPlugin := waf.New(waf.Options{Metrics: m.Registry()})
	reg, err := registryWith(wafPlugin, authz.New(m.Registry()), jwt.New(jwt.Options{Log: &log, Metrics: m.Registry()}))
	if err != nil {
		log.Error().Err(err).Msg("plugin registry")
		return 1
	}
	demo := demoWithState(log, o)
	cfg, err := load(o.configPath, demo, reg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	logWarnings(log, cfg)
	gw, err := gateway.New(cfg, gateway.Options{Log: log, Metrics: m, Version: appVersion(), DrainTimeout: o.drainTimeout})
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
	// Signals are taken before the process is announced, so that one
	// sent as soon as it is cannot kill it.
	stopSignals := make(chan os.Signal, 1)
	signal.Notify(stopSignals, syscall.SIGINT, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reopenOnSignal(ctx, log, gw, wafPlugin)
	if err := watch(ctx, log, gw, o.configPath, demo, cfg, reg); err != nil {
		log.Error().Err(err).Msg("watching the routes file; reload on SIGHUP only")
	}
	announce(log, gw, cfg, o.configPath)
	logGC(log, gc)
	if o.configPath == "" && gw.Addr("mesh") != nil {
		issue, curl := demoMeshCommands(o.stateDir, gw.Addr("mesh").String())
		log.Info().Str("state_dir", o.stateDir).Str("issue", issue).Str("curl", curl).
			Msg("mesh listener: issue yourself a certificate from the demo's CA, then call it with curl")
	}
	sig := <-stopSignals
	signal.Reset(syscall.SIGINT, syscall.SIGTERM) // a second signal now ends the process at once
	cancel()
	// SIGTERM is Kubernetes ending the pod: the load balancer needs the
	// delay to stop sending. SIGINT is Ctrl-C in a terminal, where nobody
	// waits for a load balancer.
	delay := o.drainDelay
	if sig == syscall.SIGINT {
		delay = 0
	}
	log.Info().Str("signal", sig.String()).Dur("delay", delay).Dur("timeout", o.drainTimeout).Msg("draining: not ready, finishing in-flight requests")
	sctx, cancelDrain := context.WithTimeout(context.Background(), delay+o.drainTimeout)
	defer cancelDrain()
	if err := gw.Drain(sctx, delay); err != nil {
		log.Error().Err(err).Msg("shutdown")
		return 1
	}
	log.Info().Msg("stopped")
	return 0
}

// demoWithState is the embedded demo to serve without a routes file: with
// its mesh listener when the state directory is there or can be made,
// without it otherwise, which is logged; nil with a routes file.
func demoWithState(log zerolog.Logger, o serveOptions) []byte {
	if o.configPath != "" {
		return nil
	}
	if o.stateDir == "" {
		log.Warn().Msg("no --state-dir and no user cache directory: the demo runs without its mesh listener")
		return demoConfig("")
	}
	made, err := prepareDemoState(o.stateDir)
	if err != nil {
		log.Warn().Err(err).Str("state_dir", o.stateDir).Msg("the demo's development CA could not be made: the demo runs without its mesh listener")
		return demoConfig("")
	}
	for _, p := range made {
		log.Info().Str("path", p).Msg("made for the demo's mesh listener")
	}
	return demoConfig(o.stateDir)
}

// load reads the routes file at path, or the embedded demo when path is
// empty.
func load(path string, demo []byte, reg *plugins.Registry) (*routes.Config, error) {
	if path == "" {
		return routes.Parse("demo.yaml", demo, reg)
	}
	return routes.Load(path, reg)
}

// announce says what listens where, with a URL to try.
func announce(log zerolog.Logger, gw *gateway.Gateway, cfg *routes.Config, path string) {
	src := path
	if src == "" {
		src = "embedded demo"
	}
	log.Info().Str("config", src).Str("version", appVersion()).Str("go", runtime.Version()).Msg("portcullis started")
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
func reopenOnSignal(ctx context.Context, log zerolog.Logger, gw *gateway.Gateway, w *waf.Plugin) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(usr1)
		for {
			select {
			case <-ctx.Done():
				return
			case <-usr1:
				if err := gw.ReopenAccessLog(); err != nil {
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
// serving, at start-up and at each reload.
func logWarnings(log zerolog.Logger, cfg *routes.Config) {
	for _, w := range cfg.Warnings() {
		log.Warn().Str("config", cfg.Source).Msg(w)
	}
}
