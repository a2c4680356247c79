package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// The dashboards' aggregates: computed once per snapshot (grades by county,
// industry and cluster) or by part loaders when a run changes (grade
// movement, the stats job's months), never per request.

// GradeRow counts one group's enterprises by current grade.
type GradeRow struct {
	Key      string
	Grades   [4]int // A, B, C, D (model.Grades order)
	Unscored int
}

// Total is the group's enterprises.
func (r GradeRow) Total() int {
	return r.Grades[0] + r.Grades[1] + r.Grades[2] + r.Grades[3] + r.Unscored
}

// Breakdown is the registered (not deregistered) enterprises by grade per
// county (GB/T 2260 region), industry division (GB/T 4754, e.g. C33) and
// cluster key, each sorted by key.
type Breakdown struct {
	ByCounty, ByIndustry, ByCluster []GradeRow
	// ByCountyIndustry is keyed "county|division", for the heat map.
	ByCountyIndustry []GradeRow
}

// Breakdown is computed on first use and kept with the snapshot.
func (m *Model) Breakdown() *Breakdown {
	m.breakdownOnce.Do(func() { m.breakdown = m.computeBreakdown() })
	return m.breakdown
}

func (m *Model) computeBreakdown() *Breakdown {
	county, industry, cluster, cross := map[string]*GradeRow{}, map[string]*GradeRow{}, map[string]*GradeRow{}, map[string]*GradeRow{}
	add := func(groups map[string]*GradeRow, key string, g model.Grade) {
		r := groups[key]
		if r == nil {
			r = &GradeRow{Key: strings.Clone(key)}
			groups[r.Key] = r
		}
		if i := slices.Index(model.Grades, g); i >= 0 {
			r.Grades[i]++
		} else {
			r.Unscored++
		}
	}
	m.each(func(f Firm) {
		if f.Deregistered {
			return
		}
		div := model.Division(f.Industry)
		add(county, f.Region, f.Grade)
		add(industry, div, f.Grade)
		add(cluster, f.ClusterKey(), f.Grade)
		add(cross, f.Region+"|"+div, f.Grade)
	})
	return &Breakdown{ByCounty: sortedRows(county), ByIndustry: sortedRows(industry), ByCluster: sortedRows(cluster),
		ByCountyIndustry: sortedRows(cross)}
}

func sortedRows(groups map[string]*GradeRow) []GradeRow {
	out := make([]GradeRow, 0, len(groups))
	for _, r := range groups {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b GradeRow) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Movement is how the grades moved between the previous score run (by
// as_of) and the current one: Flows[from][to], from A–D or 4 for
// enterprises the previous run did not grade, to A–D.
type Movement struct {
	From, To warehouse.Run
	Flows    [5][4]int
}

func (mv *Movement) Bytes() int64 { return int64(unsafe.Sizeof(*mv)) }

// MovementPart builds the grade movement when the score run changes. It
// reads the previous run's grades (no reasons): one pass over its outputs.
func MovementPart() PartLoader {
	return PartLoader{Job: jobScore, Load: loadMovement}
}

func loadMovement(ctx context.Context, src Source, run warehouse.Run, m *Model) (Part, error) {
	runs, err := src.Runs(ctx, warehouse.RunFilter{Job: jobScore, Status: warehouse.RunSucceeded})
	if err != nil {
		return nil, err
	}
	mv := &Movement{To: run}
	prev, ok := warehouse.CurrentRun(runs, jobScore, previousDay(run.AsOf))
	if !ok {
		return mv, nil
	}
	mv.From = prev
	seen := 0
	err = src.ReadOutputs(ctx, warehouse.OutputQuery{Job: prev.Job, Version: prev.Version}, func(o warehouse.OutputRow) error {
		from := slices.Index(model.Grades, model.Grade(o.Label))
		f, ok := m.Firm(model.USCC(o.USCC))
		to := slices.Index(model.Grades, f.Grade)
		if from < 0 || !ok || to < 0 {
			return nil
		}
		mv.Flows[from][to]++
		seen++
		return nil
	})
	if err != nil {
		return nil, err
	}
	counts := m.GradeCounts(FirmFilter{Scored: true})
	for i, g := range model.Grades { // graded now, not before
		mv.Flows[4][i] = counts[g]
		for from := range 4 {
			mv.Flows[4][i] -= mv.Flows[from][i]
		}
	}
	return mv, nil
}

// previousDay is the day before a YYYY-MM-DD date: the current run of that
// day is the latest run before as_of.
func previousDay(asOf string) string {
	t, err := parseDay(asOf)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, -1).Format("2006-01-02")
}

// jobStats is pipelines.JobStats.
const jobStats = "stats"

// Stats is the stats job's current output: each county's months and its
// open and overdue complaints.
type Stats struct {
	Run        warehouse.Run
	Months     []model.CountyMonth // by county, then month
	Complaints []model.CountyComplaints
}

func (s *Stats) Bytes() int64 {
	return int64(len(s.Months))*int64(unsafe.Sizeof(model.CountyMonth{})+16) + int64(len(s.Complaints))*48
}

// StatsPart loads the stats job's outputs.
func StatsPart() PartLoader {
	return PartLoader{Job: jobStats, Load: func(ctx context.Context, src Source, run warehouse.Run, _ *Model) (Part, error) {
		st := &Stats{Run: run}
		err := src.ReadOutputs(ctx, warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true}, func(o warehouse.OutputRow) error {
			var err error
			switch {
			case strings.HasPrefix(o.Key, "month/"):
				var cm model.CountyMonth
				err = json.Unmarshal(o.Payload, &cm)
				st.Months = append(st.Months, cm)
			case strings.HasPrefix(o.Key, "complaints/"):
				var cc model.CountyComplaints
				err = json.Unmarshal(o.Payload, &cc)
				st.Complaints = append(st.Complaints, cc)
			}
			if err != nil {
				return fmt.Errorf("output %s: %w", o.Key, err)
			}
			return nil
		})
		return st, err
	}}
}

// StatsOf is the stats part of m, or nil before the first stats run.
func StatsOf(m *Model) *Stats {
	st, _ := m.Part(jobStats).(*Stats)
	return st
}

// MovementOf is the grade movement of m, or nil before the first score run.
func MovementOf(m *Model) *Movement {
	mv, _ := m.Part(jobScore).(*Movement)
	return mv
}

func parseDay(s string) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, s, model.Shanghai)
}
