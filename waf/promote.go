package waf

import (
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// DefaultPromoted are the rules that a profile at paranoia level 1 promotes
// unless it says otherwise (crs.promote): rules of paranoia level 2 that
// catch SQL injection and template injection the level-1 rules miss, and
// that refused none of the benign values of the efficacy corpus
// (testdata/efficacy), where level 2's other rules refuse a third of
// them. The level's quote-and-operator rules (942330, 942520, 942521)
// catch more but refuse HTML attributes and quoted words, so they stay
// off. The waf README gives the figures.
var DefaultPromoted = []int{
	941380, // AngularJS client-side template injection
	942130, // SQL boolean tautology
	942150, // SQL function names
	942180, // basic SQL authentication bypass 1/3
	942300, // MySQL comments, conditions and ch(a)r injections
	942362, // concatenated basic SQL injection and SQLLFI
	942410, // SQL function names and parentheses
	942470, // SQL injection with xp_cmdshell, sp_ and the like
	942480, // SQL injection with exec and common table names
}

// crsLevels maps every rule of the embedded CRS that belongs to a paranoia
// level to that level, read from its paranoia-level/N tag.
var crsLevels = sync.OnceValue(func() map[int]int {
	levels := make(map[int]int)
	files, _ := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	for _, f := range files {
		b, err := fs.ReadFile(coreruleset.FS, f)
		if err != nil {
			continue
		}
		// A directive runs on while its lines end in a backslash.
		for _, d := range strings.Split(strings.ReplaceAll(string(b), "\\\n", " "), "\n") {
			id := ruleIDAction.FindStringSubmatch(d)
			pl := levelTag.FindStringSubmatch(d)
			if id != nil && pl != nil {
				n, _ := strconv.Atoi(id[1])
				levels[n], _ = strconv.Atoi(pl[1])
			}
		}
	}
	return levels
})

var (
	ruleIDAction = regexp.MustCompile(`\bid:(\d+)`)
	levelTag     = regexp.MustCompile(`tag:'paranoia-level/([1-4])'`)
)

// promotion says how a profile runs its promoted rules: at blocking and
// detection paranoia level level (its own when it promotes none), with
// removed, the rules of the levels it reaches for them that it does not
// promote, taken out.
func promotion(c *CRS) (level int, removed []int) {
	level = c.Paranoia
	for _, id := range c.Promote {
		level = max(level, crsLevels()[id])
	}
	if level == c.Paranoia {
		return level, nil
	}
	for id, l := range crsLevels() {
		if l > c.Paranoia && l <= level && !slices.Contains(c.Promote, id) {
			removed = append(removed, id)
		}
	}
	slices.Sort(removed)
	return level, removed
}
