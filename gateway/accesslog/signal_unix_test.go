//go:build unix

package accesslog

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestReopenOnSignal rotates the file and sends SIGUSR1 until the Logger
// has created the new one.
func TestReopenOnSignal(t *testing.T) {
	// The test's own subscription keeps SIGUSR1 from killing the process
	// before ReopenOnSignal has subscribed.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGUSR1)
	defer signal.Stop(guard)

	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	l, err := New(Options{Text: "%REQ(X-REQUEST-ID)%", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.ReopenOnSignal(ctx) // SIGUSR1 by default
	}()
	l.Log(idRecord("old"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("got no new file after 10s of SIGUSR1, want one")
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
	}
	l.Log(idRecord("new"))
	cancel()
	<-done
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := readLines(t, path+".1"), []string{"old"}; !slices.Equal(got, want) {
		t.Errorf("rotated file: got %q, want %q", got, want)
	}
	if got, want := readLines(t, path), []string{"new"}; !slices.Equal(got, want) {
		t.Errorf("new file: got %q, want %q", got, want)
	}
}
