package model

import (
	"testing"
	"time"
)

func date(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAddWorkingDays(t *testing.T) {
	cal := DefaultCalendar()
	tests := []struct {
		name, from string
		n          int
		want       string
		estimated  bool
	}{
		// 2025-03-07 is a Friday: the weekend does not count.
		{"across a weekend", "2025-03-07", 1, "2025-03-10", false},
		{"seven working days over a weekend", "2025-03-03", 7, "2025-03-12", false},
		// National Day 2025: 10-01 to 10-08 off, 09-28 (Sun) and 10-11 (Sat) worked.
		{"a make-up Sunday counts", "2025-09-26", 1, "2025-09-28", false},
		{"over the National Day holiday", "2025-09-30", 1, "2025-10-09", false},
		{"a make-up Saturday counts", "2025-10-10", 1, "2025-10-11", false},
		// Spring Festival 2026: 02-15 to 02-23 off; 02-14 (Sat) and 02-28 (Sat) worked.
		// 02-13 (Fri), 02-14 (Sat, worked), 02-24 to 02-27, 02-28 (Sat, worked).
		{"seven days over the Spring Festival", "2026-02-12", 7, "2026-02-28", false},
		{"beyond the calendar's data", "2026-12-30", 3, "2027-01-04", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.AddWorkingDays(date(tt.from), tt.n)
			if got.Date.Format(time.DateOnly) != tt.want || got.Estimated != tt.estimated {
				t.Errorf("AddWorkingDays(%s, %d) = %s (estimated %v), want %s (%v)",
					tt.from, tt.n, got.Date.Format(time.DateOnly), got.Estimated, tt.want, tt.estimated)
			}
			if back := cal.WorkingDaysBetween(date(tt.from), got.Date); back != tt.n {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tt.from, tt.want, back, tt.n)
			}
		})
	}
	if cal.LastYear() != 2026 {
		t.Errorf("last year %d", cal.LastYear())
	}
}
