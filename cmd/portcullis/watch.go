package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/portcullis-gw/portcullis/gateway"
	"github.com/portcullis-gw/portcullis/plugins"
	"github.com/portcullis-gw/portcullis/routes"
)

// watch reloads on SIGHUP, and with a routes file also when it or a file it
// names changes, until ctx ends. SIGHUP always reloads, even a file whose
// content did not change; without a file it reads the embedded demo again.
// A file with errors keeps the running configuration and logs every error
// with its place.
func watch(ctx context.Context, log zerolog.Logger, gw *gateway.Gateway, path string, demo []byte, cfg *routes.Config, reg *plugins.Registry) error {
	source := path
	if path == "" {
		source = cfg.Source
	}
	reload := func() {
		next, err := load(path, demo, reg)
		apply(log, gw, source, next, err)
	}
	var w *routes.Watcher
	var err error
	if path != "" {
		w, err = routes.NewWatcher(path, cfg, reg, func(next *routes.Config, err error) {
			apply(log, gw, path, next, err)
		})
		if err == nil {
			reload = w.Trigger
			go w.Run(ctx)
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reload()
			}
		}
	}()
	return err
}

// apply puts a newly loaded configuration in force, or records why it
// could not. The outcome is on /config and in the metrics before it is
// logged, so whoever reads the log line finds it there.
func apply(log zerolog.Logger, gw *gateway.Gateway, source string, next *routes.Config, err error) {
	if err != nil {
		gw.ReloadFailed(source, err)
		var errs routes.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				log.Error().Str("error", e.Error()).Msg("routes file has errors; keeping the running configuration")
			}
		} else {
			log.Error().Err(err).Msg("routes file did not load; keeping the running configuration")
		}
		return
	}
	logWarnings(log, next)
	if err := gw.Reload(next); err != nil {
		next.Close()
		log.Error().Err(err).Msg("reload failed; keeping the running configuration")
		return
	}
	log.Info().Int("generation", gw.Status().Generation).Msg("configuration reloaded")
}
