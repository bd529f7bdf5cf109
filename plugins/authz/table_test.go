package authz

import "testing"

// TestTableSize holds the decision tables to the size the engine's
// coverage asks for: at least 200 requests decided.
func TestTableSize(t *testing.T) {
	n := 0
	for _, gs := range [][]group{sourceGroups(), operationGroups(), conditionGroups(), actionGroups()} {
		for _, g := range gs {
			n += len(g.cases)
		}
	}
	if n < 200 {
		t.Errorf("got %d decision cases, want at least 200", n)
	}
	t.Logf("%d decision cases", n)
}
