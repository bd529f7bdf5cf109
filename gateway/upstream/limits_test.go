package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/portcullis-gw/portcullis/gateway/accesslog"
)

// TestOverflow holds max_requests requests open: the next one is refused at
// once with 503 UO, and a place frees when a held response is read.
func TestOverflow(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 2)
	b := newBackend(t, "b", func(w http.ResponseWriter, r *http.Request, hit int64) {
		w.Write([]byte("head "))
		w.(http.Flusher).Flush()
		arrived <- struct{}{}
		<-release
		w.Write([]byte("tail"))
	})
	rec := newRecorder()
	p := newPool(t, spec(t, fmt.Sprintf(`endpoints: [%q]
		limits: { max_requests: 2 }`, b.addr)), Options{Observer: rec})
	// Two requests whose responses are streaming: they hold their places
	// until their bodies are read to the end and closed.
	bodies := make(chan string, 2)
	for range 2 {
		go func() {
			_, body, err := get(t, p, nil)
			if err != nil {
				body = err.Error()
			}
			bodies <- body
		}()
	}
	recv(t, arrived)
	recv(t, arrived)
	a := &Attempt{}
	_, _, err := get(t, p, a)
	e := upstreamError(t, err)
	if e.Status != http.StatusServiceUnavailable || e.Flags != accesslog.UpstreamOverflow || !errors.Is(err, ErrOverflow) {
		t.Errorf("got %d %v %v, want 503 UO", e.Status, e.Flags, err)
	}
	if a.Tries != 0 || b.hits.Load() != 2 {
		t.Errorf("got %d tries and %d backend hits, want the third refused before any try", a.Tries, b.hits.Load())
	}
	close(release)
	for range 2 {
		if body := recv(t, bodies); body != "head tail" {
			t.Errorf("got %q, want head tail", body)
		}
	}
	if _, body, err := get(t, p, nil); err != nil || body != "head tail" {
		t.Errorf("after the held requests: got %q, %v, want head tail", body, err)
	}
	if ev := rec.snapshot(); ev.overflow != 1 || ev.active != 0 {
		t.Errorf("got %d overflows and %d active, want 1 and 0", ev.overflow, ev.active)
	}
}
