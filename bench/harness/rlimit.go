package harness

import (
	"fmt"
	"syscall"
)

// wantNoFile is the open-file limit the harness asks for: 10,000 idle
// connections cost an fd each in the load generator and in the proxy, plus
// one per upstream connection.
const wantNoFile = 1 << 18

// raiseNoFile raises RLIMIT_NOFILE of the harness, and so of every process
// it starts, as far as it can: to wantNoFile when privileged, else to the
// hard limit. Calling syscall.Setrlimit also stops os/exec from putting the
// children back on the original soft limit. It returns the limit in force.
func raiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur >= wantNoFile {
		return lim.Cur, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	want := syscall.Rlimit{Cur: wantNoFile, Max: max(lim.Max, wantNoFile)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
		return want.Cur, nil
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return lim.Cur, fmt.Errorf("setrlimit: %w", err)
	}
	return lim.Cur, nil
}
