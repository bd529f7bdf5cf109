//go:build !unix

package accesslog

import "os"

// defaultReopenSignals is empty where there is no SIGUSR1.
var defaultReopenSignals []os.Signal
