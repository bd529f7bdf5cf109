package routes

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/portcullis-gw/portcullis/plugins"
)

// DefaultDebounce lets a burst of file events (an editor's write and rename,
// the kubelet's symlink swap) settle into one reload.
const DefaultDebounce = 150 * time.Millisecond

// Watcher reloads a routes file when it, or a file it names (certificates,
// keys, CA bundles), changes.
//
// It watches directories, not files: an editor that writes a new file and
// renames it over the old one, and the kubelet, which updates a mounted
// ConfigMap by pointing the ..data symlink at a new directory, both replace
// the file rather than write to it, and a watch on the old file would see
// nothing more.
type Watcher struct {
	// Debounce is how long the watcher waits after the last event before
	// it reloads; set it before Run.
	Debounce time.Duration

	path string
	reg  *plugins.Registry
	// onLoad is called with every new configuration, or the errors that
	// kept a changed file from loading. It runs on the watcher's goroutine.
	onLoad func(*Config, error)
	force  chan struct{}
	fw     *fsnotify.Watcher
	files  []string // absolute paths whose change triggers a reload
	globs  []string // absolute globs whose set of matches is watched too
	sum    [32]byte // of the content last loaded, to skip events that change nothing
}

// NewWatcher watches path, whose running configuration is cfg, and calls
// onLoad after each change. Run starts it.
func NewWatcher(path string, cfg *Config, reg *plugins.Registry, onLoad func(*Config, error)) (*Watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &Watcher{path: path, reg: reg, onLoad: onLoad, fw: fw, force: make(chan struct{}, 1), Debounce: DefaultDebounce}
	w.track(cfg)
	w.sum = w.checksum()
	return w, nil
}

// Run watches until ctx ends, then closes the watcher.
func (w *Watcher) Run(ctx context.Context) {
	defer w.fw.Close()
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			if w.relevant(ev.Name) {
				timer = time.After(w.Debounce)
			}
		case <-w.fw.Errors:
			// A lost event only delays a reload until the next one;
			// SIGHUP forces one.
		case <-timer:
			timer = nil
			w.reload(false)
		case <-w.force:
			w.reload(true)
		}
	}
}

// Trigger asks for a reload now, even if no file changed (SIGHUP).
func (w *Watcher) Trigger() {
	select {
	case w.force <- struct{}{}:
	default: // one is already pending
	}
}

// reload loads the file. Unless force is set, it does nothing when no
// watched file's content changed since the last load, good or bad: a file
// with errors is reported once, not again for each event that leaves it
// as it was (the write that SIGHUP already reloaded, a touch).
func (w *Watcher) reload(force bool) {
	sum := w.checksum()
	if !force && sum == w.sum {
		return
	}
	w.sum = sum
	cfg, err := Load(w.path, w.reg)
	if err == nil {
		w.track(cfg)
		w.sum = w.checksum() // it now covers the files cfg names too
	}
	w.onLoad(cfg, err)
}

// track watches the routes file and every file cfg names.
func (w *Watcher) track(cfg *Config) {
	files := []string{absPath(w.path)}
	w.globs = nil
	if cfg != nil {
		files = append(files, cfg.Files()...)
		w.globs = cfg.PolicyGlobs
	}
	w.files = files
	dirs := slices.Clone(files)
	for _, g := range w.globs {
		dirs = append(dirs, filepath.Join(filepath.Dir(g), "x"))
	}
	for _, f := range dirs {
		dir := filepath.Dir(f)
		if !slices.Contains(w.fw.WatchList(), dir) {
			w.fw.Add(dir) // a missing directory is caught by Load
		}
	}
}

// relevant reports whether an event on name may change a watched file: the
// file itself, or a symlink such as the kubelet's ..data in its directory.
func (w *Watcher) relevant(name string) bool {
	for _, g := range w.globs {
		if ok, _ := filepath.Match(g, name); ok {
			return true
		}
	}
	base := filepath.Base(name)
	for _, f := range w.files {
		if filepath.Dir(f) == filepath.Dir(name) && (filepath.Base(f) == base || base == "..data" || base == "..data_tmp") {
			return true
		}
	}
	return false
}

// checksum hashes the content of every watched file; a file that cannot be
// read hashes as its error, so its return counts as a change. It streams
// each file through the hash and stops past MaxFileBytes (hashing the size
// instead), so that a huge file costs neither memory nor a full read.
func (w *Watcher) checksum() [32]byte {
	h := sha256.New()
	// A glob's matches are hashed by name and content: a file that came to
	// match it after the last good load is not among w.files yet.
	for _, g := range w.globs {
		matches, _ := filepath.Glob(g)
		io.WriteString(h, g+"\x00")
		for _, m := range matches {
			io.WriteString(h, m+"\x00")
			if err := hashFile(h, m); err != nil {
				io.WriteString(h, err.Error())
			}
		}
	}
	for _, f := range w.files {
		io.WriteString(h, f+"\x00")
		if err := hashFile(h, f); err != nil {
			io.WriteString(h, err.Error())
		}
		h.Write([]byte{0})
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Files returns the absolute paths of the files the configuration names:
// listener certificates and keys, the identity's SVID and bundles, upstream
// CA bundles and those of egress TLS origination, and the files plugins name (plugins.FilePath).
func (c *Config) Files() []string {
	var out []string
	if id := c.File.Identity; id != nil && id.WorkloadAPI == nil {
		out = append(out, absPath(id.SVID.Cert), absPath(id.SVID.Key), absPath(id.Bundle))
		for _, fb := range id.FederatedBundles {
			out = append(out, absPath(fb.Bundle))
		}
	}
	for _, l := range c.File.Listeners {
		if l.TLS == nil {
			continue
		}
		for _, ck := range l.TLS.Certificates {
			out = append(out, absPath(ck.Cert), absPath(ck.Key))
		}
	}
	for _, u := range c.File.Upstreams {
		if u.TLS != nil && u.TLS.CAFile != "" {
			out = append(out, absPath(u.TLS.CAFile))
		}
	}
	if e := c.File.Egress; e != nil {
		for _, r := range e.Rules {
			if r.OriginateTLS != nil && r.OriginateTLS.CAFile != "" {
				out = append(out, absPath(r.OriginateTLS.CAFile))
			}
		}
	}
	out = append(out, c.PolicyFiles...)
	return append(out, c.pluginFiles()...)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// hashFile writes the file's size and its first MaxFileBytes+1 bytes to h.
func hashFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%d\x00", fi.Size())
	_, err = io.Copy(h, io.LimitReader(f, MaxFileBytes+1))
	return err
}
