package pipelines_test

import (
	"testing"
	"time"

	"github.com/qcredit/qcredit/pipelines"
)

func TestHasSlotOn(t *testing.T) {
	day := func(s string) time.Time {
		d, _ := time.ParseInLocation(time.DateOnly, s, pipelines.Shanghai)
		return d
	}
	for _, tt := range []struct {
		spec, day string
		want      bool
	}{
		{"0 2 * * *", "2026-03-17", true},     // daily
		{"0 5 1 * *", "2026-03-01", true},     // monthly, on the 1st
		{"0 5 1 * *", "2026-03-31", false},    // … not on the 31st
		{"0 3 1 12 *", "2026-12-01", true},    // yearly
		{"0 3 1 12 *", "2026-11-01", false},   // … not another month's 1st
		{"30 23 31 12 *", "2026-12-31", true}, // a slot late in the day
		{"0 0 1 1 *", "2027-01-01", true},     // at midnight
		{"off", "2026-12-01", false},
		{"after score", "2026-12-01", false},
	} {
		got, err := pipelines.HasSlotOn(tt.spec, day(tt.day))
		if err != nil || got != tt.want {
			t.Errorf("HasSlotOn(%q, %s) = %v, %v; want %v", tt.spec, tt.day, got, err, tt.want)
		}
	}
	if _, err := pipelines.HasSlotOn("not a spec", day("2026-01-01")); err == nil {
		t.Error("a bad spec was accepted")
	}
}
