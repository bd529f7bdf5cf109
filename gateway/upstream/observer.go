package upstream

// Observer receives a pool's events, for metrics. The pool calls it from the
// request path and from its own goroutines, concurrently, so its methods
// must be cheap and must not block.
type Observer interface {
	// EndpointHealth reports an endpoint's eligibility: false while its
	// health check has it down or it is ejected. The first report of an
	// address means it joined the pool.
	EndpointHealth(endpoint string, healthy bool)
	// EndpointRemoved reports that an endpoint left the pool (or the pool
	// closed), so that its series can go.
	EndpointRemoved(endpoint string)
	// Ejected counts an outlier ejection.
	Ejected()
	// Retry counts a retry event; result is one of the Retry* constants.
	Retry(result string)
	// Overflow counts a request refused by the circuit limits.
	Overflow()
	// Active adds delta to the requests in progress.
	Active(delta int)
	// ResolveError counts a failed lookup of an endpoint name; reason is
	// one of the Resolve* constants.
	ResolveError(reason string)
}

// The results Observer.Retry reports. RetryRetried counts each retry sent;
// the others count requests: RetrySucceeded one that was retried and ended
// without a retriable outcome, RetryOverflow a retry the budget refused,
// RetryExhausted one that used all its attempts.
const (
	RetryRetried   = "retried"
	RetrySucceeded = "success"
	RetryOverflow  = "overflow"
	RetryExhausted = "exhausted"
)

// nopObserver is the Observer of a pool built without one.
type nopObserver struct{}

func (nopObserver) EndpointHealth(string, bool) {}
func (nopObserver) EndpointRemoved(string)      {}
func (nopObserver) Ejected()                    {}
func (nopObserver) Retry(string)                {}
func (nopObserver) Overflow()                   {}
func (nopObserver) Active(int)                  {}
func (nopObserver) ResolveError(string)         {}
