package waf

import (
	"slices"
	"strings"
	"testing"
)

// TestCRSLevels reads the paranoia levels of the embedded CRS's rules: the
// promoted rules are all of level 2, and levels 1 to 4 are all there.
func TestCRSLevels(t *testing.T) {
	count := map[int]int{}
	for _, l := range crsLevels() {
		count[l]++
	}
	if count[1] < 100 || count[2] < 50 || count[3] < 10 || count[4] < 5 {
		t.Fatalf("got rules by level %v, want every level of the CRS", count)
	}
	for _, id := range DefaultPromoted {
		if crsLevels()[id] != 2 {
			t.Errorf("promoted rule %d is of level %d, want 2", id, crsLevels()[id])
		}
	}
}

// TestPromotion: a profile at level 1 runs level 2 with every level-2 rule
// but the promoted ones removed; one that promotes nothing, or runs level
// 2 itself, removes nothing.
func TestPromotion(t *testing.T) {
	level3 := 0
	for id, l := range crsLevels() {
		if l == 3 && (level3 == 0 || id < level3) {
			level3 = id
		}
	}
	for _, tc := range []struct {
		name                string
		crs                 CRS
		level, removedCount int
	}{
		{"default promotions", CRS{Paranoia: 1, ExecutingParanoia: 1, Promote: DefaultPromoted}, 2, -1},
		{"none", CRS{Paranoia: 1, ExecutingParanoia: 1, Promote: []int{}}, 1, 0},
		{"level 2", CRS{Paranoia: 2, ExecutingParanoia: 2}, 2, 0},
		{"a level-3 rule", CRS{Paranoia: 1, ExecutingParanoia: 1, Promote: []int{level3}}, 3, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			level, removed := promotion(&tc.crs)
			if level != tc.level {
				t.Errorf("level %d, want %d", level, tc.level)
			}
			if tc.removedCount == 0 && len(removed) != 0 {
				t.Errorf("removed %v, want none", removed)
			}
			for _, id := range removed {
				if slices.Contains(tc.crs.Promote, id) || crsLevels()[id] <= tc.crs.Paranoia || crsLevels()[id] > level {
					t.Errorf("removed rule %d (level %d)", id, crsLevels()[id])
				}
			}
			if tc.removedCount < 0 {
				for id, l := range crsLevels() {
					if l > tc.crs.Paranoia && l <= level && !slices.Contains(tc.crs.Promote, id) && !slices.Contains(removed, id) {
						t.Errorf("rule %d of level %d still runs", id, l)
					}
				}
			}
		})
	}
	p := &Profile{CRS: CRS{Paranoia: 1, ExecutingParanoia: 1, Promote: DefaultPromoted}}
	chunks, err := directives(p, "", "")
	if err != nil {
		t.Fatal(err)
	}
	text := joinChunks(chunks)
	if !strings.Contains(text, "blocking_paranoia_level=2") || !strings.Contains(text, "SecRuleRemoveById 942200\n") || strings.Contains(text, "SecRuleRemoveById 942130\n") {
		t.Errorf("the directives do not promote as they should:\n%s", text)
	}
}
