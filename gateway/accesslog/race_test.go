//go:build race

package accesslog

// raceEnabled is set because sync.Pool drops items at random under the race
// detector, which makes allocation counts meaningless.
const raceEnabled = true
