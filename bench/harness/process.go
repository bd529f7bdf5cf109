package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a server the harness started: a contender or the backend. It
// leads its own process group, so nginx's workers are counted with their
// master and stopped with it.
type process struct {
	name string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
	err  error // set when done is closed
}

// pinned prefixes argv with taskset when pinning is on.
func (h *harness) pinned(cpus string, argv []string) []string {
	if !h.pin || cpus == "" {
		return argv
	}
	return append([]string{h.taskset, "-c", cpus}, argv...)
}

// start runs argv on the server CPUs with its stdout and stderr in files
// under dir (stdout to stdoutPath when given: HAProxy logs there).
func (h *harness) start(name, dir string, argv, env []string, stdoutPath string) (*process, error) {
	argv = h.pinned(h.opt.ServerCPUs, argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if stdoutPath == "" {
		stdoutPath = filepath.Join(dir, "stdout.log")
	}
	out, err := os.Create(stdoutPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pgid is the process group: the leader's pid.
func (p *process) pgid() int { return p.cmd.Process.Pid }

// exited says whether the leader has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stopGrace is how long a server may take to exit after SIGTERM. The
// figures are taken by then, so there is nothing to wait for: the gateway
// drains for seconds on SIGTERM, as it should in a cluster, and waiting
// for that would only slow the bench down.
const stopGrace = time.Second

// stop asks the whole group to end (SIGTERM), and kills it if it has not
// within stopGrace.
func (p *process) stop() {
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.pgid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-p.pgid(), syscall.SIGKILL)
		<-p.done
	}
	// Workers left behind by a leader that died first.
	_ = syscall.Kill(-p.pgid(), syscall.SIGKILL)
}

// stopAll stops the processes at once, each in its own goroutine, and
// waits for all of them.
func stopAll(ps []*process) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(p.stop)
	}
	wg.Wait()
}

// logTail is the end of the process's logs, to say why it failed.
func (p *process) logTail() string {
	var parts []string
	for _, f := range []string{"stderr.log", "stdout.log", "error.log"} {
		b, err := os.ReadFile(filepath.Join(p.dir, f))
		if err != nil || len(b) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		parts = append(parts, lines[max(0, len(lines)-3):]...)
	}
	if p.exited() && p.err != nil {
		parts = append(parts, p.err.Error())
	}
	if len(parts) == 0 {
		return "no output"
	}
	return strings.Join(parts, " / ")
}

// errExited is returned when a server ends before it is ready.
var errExited = errors.New("exited before it was ready")
