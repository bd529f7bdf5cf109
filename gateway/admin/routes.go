package admin

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog"
)

// newRouter mounts the admin pages. pprof's handlers are mounted here rather
// than through net/http/pprof's registration on http.DefaultServeMux, which
// would expose them on any server that uses the default mux.
func newRouter(opts Options) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.GetHead)
	r.Get("/healthz", text(http.StatusOK, "ok"))
	r.Get("/readyz", readyz(opts.Ready))
	if opts.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", opts.Metrics)
		// Envoy's path for the same page, which Istio's prometheus.io
		// scrape annotations and PodMonitors name.
		r.Method(http.MethodGet, "/stats/prometheus", opts.Metrics)
	}
	if opts.Config != nil {
		r.Get("/config", config(opts.Config, opts.Logger))
	}
	r.Get("/debug/pprof", http.RedirectHandler("/debug/pprof/", http.StatusMovedPermanently).ServeHTTP)
	r.Get("/debug/pprof/", pprof.Index)
	r.Get("/debug/pprof/cmdline", pprof.Cmdline)
	r.Get("/debug/pprof/profile", pprof.Profile)
	r.Get("/debug/pprof/symbol", pprof.Symbol)
	r.Post("/debug/pprof/symbol", pprof.Symbol)
	r.Get("/debug/pprof/trace", pprof.Trace)
	r.Get("/debug/pprof/{profile}", pprof.Index) // heap, goroutine, allocs, block, mutex, threadcreate
	if opts.Extra != nil {
		opts.Extra(r)
	}
	r.Get("/", text(http.StatusOK, index(r)))
	return r
}

// index lists the router's GET pages, Extra's included, one per line.
func index(r chi.Routes) string {
	var pages []string
	_ = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method != http.MethodGet || strings.ContainsAny(route, "{*") ||
			(strings.HasPrefix(route, "/debug/pprof") && route != "/debug/pprof/") {
			return nil
		}
		pages = append(pages, route)
		return nil
	})
	slices.Sort(pages)
	return "Portcullis admin\n\n" + strings.Join(pages, "\n")
}

// text answers with a fixed plain-text body.
func text(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body + "\n"))
	}
}

// readyz answers 200 while ready says so, 503 otherwise, so that Kubernetes
// sends traffic only to replicas that have loaded their config.
func readyz(ready func() bool) http.HandlerFunc {
	ok, not := text(http.StatusOK, "ready"), text(http.StatusServiceUnavailable, "not ready")
	return func(w http.ResponseWriter, r *http.Request) {
		if ready == nil || ready() {
			ok(w, r)
			return
		}
		not(w, r)
	}
}

// config writes the running config as indented JSON.
func config(get func() any, logger zerolog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		b, err := json.MarshalIndent(get(), "", "  ")
		if err != nil {
			logger.Error().Err(err).Msg("admin: render config")
			http.Error(w, "config cannot be rendered as JSON", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(append(b, '\n'))
	}
}
