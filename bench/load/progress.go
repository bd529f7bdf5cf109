package load

import (
	"fmt"
	"io"
	"time"
)

// progress writes a line a second to w until the returned stop is called,
// so a person watching a long run sees it move and sees errors at once.
func progress(w io.Writer, start time.Time, sh *shared) (stop func()) {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last uint64
		for {
			select {
			case <-done:
				fmt.Fprintln(w)
				return
			case now := <-t.C:
				n := sh.done.Load()
				fmt.Fprintf(w, "\rload %5.1fs %10d req %9.0f req/s now %8d errors",
					now.Sub(start).Seconds(), n, float64(n-last), sh.failed.Load())
				last = n
			}
		}
	}()
	return func() { close(done); <-finished }
}
