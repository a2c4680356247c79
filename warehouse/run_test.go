package warehouse

import (
	"testing"
	"time"
)

func TestCurrentRun(t *testing.T) {
	w := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC) }
	run := func(v int, asOf string, wm time.Time, st RunStatus) Run {
		return Run{Job: "score", Version: v, AsOf: asOf, Watermark: wm, Status: st}
	}
	tests := []struct {
		name string
		runs []Run
		want int // version; 0 = none
	}{
		{"none succeeded", []Run{run(1, "2026-11-30", w(1), RunFailed), run(2, "2026-11-30", w(2), RunRunning)}, 0},
		{"greatest as_of wins over a later backfill", []Run{run(1, "2026-11-30", w(1), RunSucceeded), run(2, "2026-10-31", w(3), RunSucceeded)}, 1},
		{"a re-run of today's as_of with late reports wins", []Run{run(1, "2026-11-30", w(1), RunSucceeded), run(2, "2026-11-30", w(3), RunSucceeded)}, 2},
		{"a --like re-run (same watermark) replaces nothing older", []Run{run(1, "2026-11-30", w(3), RunSucceeded), run(2, "2026-11-30", w(1), RunSucceeded)}, 1},
		{"same as_of and watermark: latest version", []Run{run(1, "2026-11-30", w(1), RunSucceeded), run(2, "2026-11-30", w(1), RunSucceeded)}, 2},
		{"as_of after today is never current", []Run{run(1, "2026-11-30", w(1), RunSucceeded), run(2, "2100-01-01", w(3), RunSucceeded)}, 1},
		{"another job's runs do not count", []Run{{Job: "lists", Version: 9, AsOf: "2026-12-01", Status: RunSucceeded}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CurrentRun(tt.runs, "score", "2026-12-01")
			if (tt.want == 0) == ok || (ok && got.Version != tt.want) {
				t.Errorf("got version %d (found %v), want %d", got.Version, ok, tt.want)
			}
		})
	}
}

func TestResolveLease(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 12, 1, 2, 0, s, 0, time.UTC) }
	claim := func(holder string, from, until int) LeaseClaim {
		return LeaseClaim{Name: "job/score", Holder: holder, At: at(from), Until: at(until)}
	}
	tests := []struct {
		name   string
		claims []LeaseClaim
		holder string
		until  int
	}{
		{"the earliest of two racing claims holds", []LeaseClaim{claim("b", 1, 60), claim("a", 2, 60)}, "b", 60},
		{"same instant: the smaller holder", []LeaseClaim{claim("b", 1, 60), claim("a", 1, 60)}, "a", 60},
		{"the holder renews", []LeaseClaim{claim("a", 1, 30), claim("b", 10, 70), claim("a", 20, 50)}, "a", 50},
		{"after expiry another takes it", []LeaseClaim{claim("a", 1, 30), claim("b", 31, 90)}, "b", 90},
		{"after release another takes it", []LeaseClaim{claim("a", 1, 60), {Holder: "a", At: at(5), Release: true}, claim("b", 6, 90)}, "b", 90},
		{"a stranger's release does nothing", []LeaseClaim{claim("a", 1, 60), {Holder: "b", At: at(5), Release: true}}, "a", 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ResolveLease(tt.claims)
			if h.Holder != tt.holder || !h.Until.Equal(at(tt.until)) {
				t.Errorf("got %+v, want %s until %v", h, tt.holder, at(tt.until))
			}
		})
	}
}
