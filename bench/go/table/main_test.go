package main

import "testing"

// A ratio prints on the side of its target it is on: two decimals where
// they show it, more where rounding would cross the target.
func TestSideOf(t *testing.T) {
	for _, c := range []struct {
		r, target float64
		want      string
	}{
		{1.0044, 1.0, "1.004"},
		{1.00004, 1.0, "1.00004"},
		{0.6102, 0.6, "0.61"},
		{2.5498, 2.5, "2.55"},
		{0.9951, 1.0, "1.00"}, // 1.00 ≤ 1.0: the same side
		{1.0, 1.0, "1.00"},
		{1.19, 1.0, "1.19"},
	} {
		if got := sideOf(c.r, c.target); got != c.want {
			t.Errorf("sideOf(%v, %v) = %q, want %q", c.r, c.target, got, c.want)
		}
	}
}

// judge counts and prints by the unrounded ratio; notMeasured counts a miss.
func TestJudgeAndNotMeasured(t *testing.T) {
	ty := &tally{}
	if got := ty.judge("a", 1.0044, 1.0, "%.1f"); got != "1.004 ✗ (≤ 1.0)" {
		t.Errorf("judge = %q", got)
	}
	if got := ty.judge("b", 0.9951, 1.0, "%.1f"); got != "1.00 ✓ (≤ 1.0)" {
		t.Errorf("judge = %q", got)
	}
	ty.notMeasured("c", "≤ 0.7")
	if ty.met != 1 || ty.missed != 2 || len(ty.misses) != 2 {
		t.Errorf("tally %+v", ty)
	}
	if ty.misses[1] != "c: not measured, target ≤ 0.7" {
		t.Errorf("miss %q", ty.misses[1])
	}
}
