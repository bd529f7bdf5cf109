package routes

// Suggest returns the word of known that word is most likely a typo of, or
// "" when none is close: at most one edit (a letter added, dropped,
// changed, or two swapped) for words of up to four letters, two for longer
// ones, and a unique nearest. The routes file's unknown keys and the
// command line's unknown commands use it for "did you mean".
func Suggest(word string, known []string) string {
	limit := 1
	if len(word) > 4 {
		limit = 2
	}
	best, bestDist, ties := "", limit+1, 0
	for _, k := range known {
		d := editDistance(word, k, limit)
		switch {
		case d < bestDist:
			best, bestDist, ties = k, d, 0
		case d == bestDist:
			ties++
		}
	}
	if bestDist > limit || ties > 0 {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b
// (Levenshtein's, with a swap of two neighbouring bytes as one edit), or
// limit+1 when it is past limit. Keys are short and ASCII, so it counts
// bytes and stops early on words whose lengths alone differ too much.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	// Three rows of the dynamic programme: two back, one back, this one.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}
