package gateway

import (
	"errors"
	"net"
	"time"

	"github.com/portcullis-gw/portcullis/routes"
	"github.com/portcullis-gw/portcullis/routes/identity"
)

// ReloadStatus is the outcome of the last reload, for /config.
type ReloadStatus struct {
	Generation int       `json:"generation"`
	Time       time.Time `json:"time"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error,omitempty"`
	Source     string    `json:"source"`
}

var errShutDown = errors.New("gateway is shut down")

// Reload puts cfg in force, every setting of it: none waits for a restart.
// It builds everything cfg needs first, off the request path: upstream
// pools (carrying over those whose definition did not change, with their
// connections), certificates, the access log when access_log changed, and
// sockets for new listener and admin addresses. Only when all of that
// succeeded does it swap the snapshot, so a failed reload leaves the running
// configuration whole. In-flight requests finish on the snapshot they
// started with, and write their lines to its access log; listeners whose
// address stays keep their socket; removed listeners drain and close, and
// so does the admin server of a changed admin.address. An identity from
// the Workload API keeps its source while the socket stays; a new socket
// must send an SVID within Options.WorkloadAPIWait, and the old source
// closes once the new configuration is in force.
func (g *Gateway) Reload(cfg *routes.Config) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.reload(cfg)
	g.metrics.Reload(err == nil)
	g.status = ReloadStatus{Generation: g.status.Generation, Time: time.Now(), OK: err == nil, Source: cfg.Source}
	if err == nil {
		g.status.Generation++
	} else {
		g.status.Error = err.Error()
	}
	return err
}

func (g *Gateway) reload(cfg *routes.Config) error {
	if g.closed {
		return errShutDown
	}
	id, src, err := g.identityFor(cfg)
	if err != nil {
		return err
	}
	if err := g.swap(cfg, id); err != nil {
		// A source opened for cfg closes; the running one, or none when
		// cfg takes no identity from the Workload API, stays as it is.
		if src != nil && src != g.wl {
			src.close()
		}
		return err
	}
	g.useSource(src)
	return nil
}

// swap puts cfg in force with id as the gateway's identity, as Reload
// describes; an identity the Workload API rotates comes this way too.
func (g *Gateway) swap(cfg *routes.Config, id *identity.Identity) error {
	prev := g.snap.Load()
	next, err := g.newSnapshot(cfg, id, prev)
	if err != nil {
		return err
	}
	// Open and load everything new before touching what runs.
	var opened, kept []*listener
	var adm *adminServer
	fail := func(err error) error {
		g.closeListeners(opened)
		if adm != nil {
			adm.ln.Close()
		}
		next.closePools(prev)
		next.access.release()
		next.loaded.snapshots.Add(-1) // cfg stays the caller's to close
		return err
	}
	// What each kept listener becomes: its new definition and its
	// certificates, loaded now so that a bad file fails the reload.
	type keep struct {
		spec routes.Listener
		tls  *handshakeConfig
	}
	keeps := map[*listener]keep{}
	for _, spec := range cfg.File.Listeners {
		if l := g.listenerFor(spec); l != nil {
			if _, dup := keeps[l]; !dup {
				tc, err := g.listenerTLS(spec, id)
				if err != nil {
					return fail(err)
				}
				kept, keeps[l] = append(kept, l), keep{spec, tc}
				continue
			}
		}
		l, err := g.openListener(spec, id)
		if err != nil {
			return fail(err)
		}
		opened = append(opened, l)
	}
	moveAdmin := cfg.File.Admin.Address != g.adminAddress() && !g.adminBoundTo(cfg.File.Admin.Address)
	if moveAdmin {
		if adm, err = g.openAdmin(cfg.File.Admin.Address); err != nil {
			return fail(err)
		}
	}
	// Commit: from here on nothing fails the reload.
	var removed []*listener
	for _, l := range g.listeners {
		if _, ok := keeps[l]; !ok {
			removed = append(removed, l)
		}
	}
	next.start()
	g.snap.Store(next)
	g.egress.Policies.Store(next.egress)
	g.listeners = append(kept, opened...)
	g.countCallerRefusals(cfg)
	httpsPort := g.httpsPort(cfg)
	for _, l := range kept {
		k := keeps[l]
		l.tlsCfg.Store(k.tls)
		if l.specChanged(k.spec) {
			g.startLogged(l, k.spec, httpsPort)
		}
	}
	for _, l := range opened {
		g.startLogged(l, l.spec, httpsPort)
	}
	if moveAdmin {
		g.retireAdmin(g.admin)
		g.admin = adm
		g.serveAdmin(adm)
	}
	go func() {
		if err := g.closeListeners(removed, g.opts.DrainTimeout); err != nil {
			g.log.Warn().Err(err).Msg("removed listener drain")
		}
	}()
	g.guardOwnListeners()
	g.retire(prev, next)
	return nil
}

func (g *Gateway) startLogged(l *listener, spec routes.Listener, httpsPort string) {
	if err := g.start(l, spec, httpsPort, g.opts.DrainTimeout); err != nil {
		g.log.Error().Err(err).Str("listener", l.name).Msg("listener start failed")
	}
}

// ReloadFailed records a reload that failed before reaching the gateway,
// such as a routes file with errors: the running configuration stays, the
// failure is counted and shown on /config, and /readyz is unaffected.
func (g *Gateway) ReloadFailed(source string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.metrics.Reload(false)
	g.status = ReloadStatus{Generation: g.status.Generation, Time: time.Now(), Source: source, Error: err.Error()}
}

// Status returns the outcome of the last reload.
func (g *Gateway) Status() ReloadStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.status
}

// configPage is what /config shows: the running configuration, secrets
// redacted, and the last reload's outcome.
func (g *Gateway) configPage() any {
	s := g.snap.Load()
	return map[string]any{
		"version": g.opts.Version,
		"source":  s.cfg.Source,
		"reload":  g.Status(),
		"config":  s.cfg.File,
	}
}

// listenerFor returns the running listener that spec describes: the one
// bound to spec's address, or the one of the same name configured with the
// same address (a listener on port 0 keeps its port across reloads only so).
func (g *Gateway) listenerFor(spec routes.Listener) *listener {
	for _, l := range g.listeners {
		if l.Addr().String() == spec.Address || l.spec.Address == spec.Address && l.name == spec.Name {
			return l
		}
	}
	_, port, _ := net.SplitHostPort(spec.Address)
	for _, l := range g.listeners {
		if port != "0" && l.spec.Address == spec.Address {
			return l
		}
	}
	return nil
}
