package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/warehouse"
)

// devHistory gives `qcredit dev` history to look at from its first start:
// every job, in schedule order, as of the end of each past month of the
// simulated years (each once: a month-end already run is skipped, so a
// later start only adds months that have ended since), then as of today
// (on every start, like the score run it replaces, so what the simulated
// bureaus reported meanwhile counts).
func (a *app) devHistory(ctx context.Context, s backend, reg prometheus.Registerer, years int) error {
	r, err := a.newRunner(s, reg)
	if err != nil {
		return err
	}
	runs, err := r.Runs(ctx, warehouse.RunFilter{Status: warehouse.RunSucceeded})
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, run := range runs {
		done[run.Job+"@"+run.AsOf] = true
	}
	jobs := scheduleOrder(r.Jobs())
	today := r.Today().Date
	ends := monthEnds(today.AddDate(-years, 0, 0), today)
	start := time.Now()
	for i, asOf := range ends {
		for _, j := range jobs {
			if done[j+"@"+asOf] {
				continue
			}
			if _, err := r.Run(ctx, pipelines.RunRequest{Job: j, AsOf: asOf}); err != nil {
				return fmt.Errorf("history as of %s: %w", asOf, err)
			}
		}
		if (i+1)%6 == 0 {
			a.log.Info("history: month-end runs", "done", i+1, "of", len(ends), "elapsed", time.Since(start).Round(time.Second))
		}
	}
	for _, j := range jobs {
		if _, err := r.Run(ctx, pipelines.RunRequest{Job: j}); err != nil {
			return err
		}
	}
	a.log.Info("history ready", "month_ends", len(ends), "jobs", jobs, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// monthEnds are the last days (YYYY-MM-DD) of the months that ended after
// from and before today, oldest first.
func monthEnds(from, today time.Time) []string {
	var out []string
	for m := time.Date(from.Year(), from.Month()+1, 1, 0, 0, 0, 0, from.Location()); ; m = m.AddDate(0, 1, 0) {
		end := m.AddDate(0, 1, -1)
		if !end.Before(today) {
			return out
		}
		out = append(out, end.Format(time.DateOnly))
	}
}

// scheduleOrder orders jobs as one scheduled slot runs them: every job on a
// cron schedule (by name), then each "after JOB" job once its JOB has run;
// jobs that are "off" (run only by hand) are left out.
func scheduleOrder(jobs []pipelines.Job) []string {
	var out []string
	placed := map[string]bool{}
	for _, j := range jobs {
		if sc := j.Schedule(); sc != "off" && !strings.HasPrefix(sc, "after ") {
			out, placed[j.Name()] = append(out, j.Name()), true
		}
	}
	for progress := true; progress; {
		progress = false
		for _, j := range jobs {
			after, ok := strings.CutPrefix(j.Schedule(), "after ")
			if ok && !placed[j.Name()] && placed[strings.TrimSpace(after)] {
				out, placed[j.Name()], progress = append(out, j.Name()), true, true
			}
		}
	}
	return slices.Clip(out)
}
