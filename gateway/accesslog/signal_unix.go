//go:build unix

package accesslog

import (
	"os"
	"syscall"
)

// defaultReopenSignals is what log rotators send to ask for a reopen.
var defaultReopenSignals = []os.Signal{syscall.SIGUSR1}
