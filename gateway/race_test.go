//go:build race

package gateway

// raceEnabled is set because sync.Pool, which net/http and crypto/tls use,
// drops items at random under the race detector, so that a request's
// allocation count varies by one or two.
const raceEnabled = true
