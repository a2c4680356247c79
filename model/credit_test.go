package model

import (
	"encoding/json"
	"testing"
)

func TestPointsJSON(t *testing.T) {
	for _, tt := range []struct {
		p    Points
		text string
	}{{0, "0.0"}, {5, "0.5"}, {-5, "-0.5"}, {855, "85.5"}, {-1000, "-100.0"}, {1000, "100.0"}} {
		b, _ := json.Marshal(tt.p)
		var back Points
		if err := json.Unmarshal(b, &back); err != nil || back != tt.p || string(b) != tt.text {
			t.Errorf("%d → %s → %d (%v), want %s", tt.p, b, back, err, tt.text)
		}
	}
}

func TestGradeLabels(t *testing.T) {
	want := map[Grade]string{GradeA: "守信", GradeB: "基本守信", GradeC: "失信", GradeD: "严重失信"}
	for _, g := range Grades {
		if g.Label() != want[g] || g.LabelEN() == "" {
			t.Errorf("grade %s: label %q/%q", g, g.Label(), g.LabelEN())
		}
	}
	if _, err := ParseGrade("E"); err == nil {
		t.Error("grade E parsed")
	}
}
