package serving_test

import (
	"slices"
	"testing"
	"time"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// clustersRun stores a succeeded clusters run as of asOf with outputs made
// from vs (keys and values as the job writes them).
func clustersRun(t *testing.T, s *duckdb.Store, asOf string, outputs map[string]any) warehouse.Run {
	t.Helper()
	start := time.Date(2025, 7, 1, 3, 0, 0, 0, model.Shanghai)
	run, err := s.BeginRun(t.Context(), warehouse.Run{Job: "clusters", AsOf: asOf, Watermark: start, StartedAt: start,
		Status: warehouse.RunRunning, Counts: map[string]int64{}, ModelVersion: "cl-test"})
	if err != nil {
		t.Fatal(err)
	}
	var rows []warehouse.OutputRow
	for key, v := range outputs {
		o := warehouse.OutputRow{Key: key}
		if html, ok := v.(string); ok {
			o.Payload = []byte(html)
		} else {
			p, err := clusters.CanonicalJSON(v)
			if err != nil {
				t.Fatal(err)
			}
			o.Payload = p
		}
		rows = append(rows, o)
	}
	slices.SortFunc(rows, func(a, b warehouse.OutputRow) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	if err := s.WriteOutputs(t.Context(), run.Job, run.Version, rows); err != nil {
		t.Fatal(err)
	}
	end := start.Add(time.Minute)
	run.Status, run.FinishedAt = warehouse.RunSucceeded, &end
	if err := s.FinishRun(t.Context(), run); err != nil {
		t.Fatal(err)
	}
	return run
}

func assessment(cluster, county, division string, level model.Level, n, x int64) model.ClusterAssessment {
	a := model.ClusterAssessment{Cluster: cluster, County: county, Division: division, Level: level,
		Status: model.AssessmentStatusAssessed, Signals: []model.Signal{}, Reasons: []model.Reason{}}
	a.Evidence.Checks, a.Evidence.Failures, a.Indicators.Enterprises = n, x, 10
	if n < 20 {
		a.Status = model.AssessmentStatusInsufficientData
	}
	return a
}

func TestClustersPart(t *testing.T) {
	// Given two clusters runs, the later one current with warnings open and
	// closed, one whose letter an earlier run wrote, when the read model
	// loads, then warnings page with filters (open first, most severe
	// first), each letter is found in the run that wrote it, and the heat
	// map and funnel plots are the current run's; when a new run appears,
	// a refresh serves it.
	s := duckdbtest.Open(t)
	red := model.Warning{ID: "cw-x-20250531", Cluster: "x", County: "320830", Division: "C30", Status: model.WarningStatusOpen,
		Level: model.LevelRed, LetterOn: "2025-05-31", NeedsAcknowledgement: false}
	yellow := model.Warning{ID: "cw-320812-C31-20250630", Cluster: "320812-C31", County: "320812", Division: "C31",
		Status: model.WarningStatusOpen, Level: model.LevelYellow, LetterOn: "2025-06-30", NeedsAcknowledgement: true}
	closed := model.Warning{ID: "cw-y-20250131", Cluster: "y", County: "320830", Division: "C30", Status: model.WarningStatusClosed}
	clustersRun(t, s, "2025-05-31", map[string]any{
		model.ClusterKeyWarning + red.ID: red, model.ClusterKeyLetter + red.ID: "<html>red of May</html>",
		model.ClusterKeyRun: model.ClusterRun{AsOf: "2025-05-31"}})
	current := clustersRun(t, s, "2025-06-30", map[string]any{
		model.ClusterKeyAssessment + "x":          assessment("x", "320830", "C30", model.LevelRed, 60, 14),
		model.ClusterKeyAssessment + "y":          assessment("y", "320830", "C30", model.LevelNone, 60, 3),
		model.ClusterKeyAssessment + "320812-C31": assessment("320812-C31", "320812", "C31", model.LevelYellow, 40, 6),
		model.ClusterKeyAssessment + "320812-C33": assessment("320812-C33", "320812", "C33", model.LevelNone, 8, 0),
		model.ClusterKeyFunnel + "C30":            model.FunnelPlot{Division: "C30", Baseline: 0.05},
		model.ClusterKeyFunnel + "C31":            model.FunnelPlot{Division: "C31", Baseline: 0.07},
		model.ClusterKeyWarning + red.ID:          red,
		model.ClusterKeyWarning + yellow.ID:       yellow,
		model.ClusterKeyWarning + closed.ID:       closed,
		model.ClusterKeyLetter + yellow.ID:        "<html>yellow of June</html>",
		model.ClusterKeyRun:                       model.ClusterRun{AsOf: "2025-06-30", Phi: 1.5},
	})
	now := time.Date(2025, 7, 1, 9, 0, 0, 0, model.Shanghai)
	rm, err := serving.NewStore(s, quiet, serving.Options{Now: func() time.Time { return now }, Parts: []serving.PartLoader{serving.ClustersPart()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rm.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	p := rm.Current().Clusters()
	if p == nil || p.Run.AsOf != "2025-06-30" || p.Run.Phi != 1.5 {
		t.Fatalf("clusters part %+v", p)
	}
	ids := func(page serving.WarningPage) []string {
		var out []string
		for _, w := range page.Items {
			out = append(out, w.ID)
		}
		return out
	}
	yes := true
	for _, c := range []struct {
		name   string
		f      serving.ClusterFilter
		offset int
		want   []string
		total  int
	}{
		{"all: open first, most severe first", serving.ClusterFilter{}, 0, []string{red.ID, yellow.ID, closed.ID}, 3},
		{"page 2 of 1", serving.ClusterFilter{}, 1, []string{yellow.ID}, 3},
		{"yellow and above", serving.ClusterFilter{MinLevel: model.LevelYellow}, 0, []string{red.ID, yellow.ID}, 2},
		{"a county", serving.ClusterFilter{County: "320812"}, 0, []string{yellow.ID}, 1},
		{"the city", serving.ClusterFilter{County: "320800", Status: "closed"}, 0, []string{closed.ID}, 1},
		{"a division", serving.ClusterFilter{Division: "C30", Level: model.LevelRed}, 0, []string{red.ID}, 1},
		{"waiting for an analyst", serving.ClusterFilter{NeedsAcknowledgement: &yes}, 0, []string{yellow.ID}, 1},
	} {
		limit := 10
		if c.offset > 0 {
			limit = 1
		}
		page := p.Warnings(c.f, c.offset, limit)
		if got := ids(page); !slices.Equal(got, c.want) || page.Total != c.total {
			t.Errorf("%s: %v of %d, want %v of %d", c.name, got, page.Total, c.want, c.total)
		}
	}
	if v, ok := p.LetterRun(red.ID); !ok || v != 1 {
		t.Errorf("letter of %s in run %d %v, want clusters-1 (it wrote it)", red.ID, v, ok)
	}
	if v, ok := p.LetterRun(yellow.ID); !ok || v != current.Version {
		t.Errorf("letter of %s in run %d %v, want %d", yellow.ID, v, ok, current.Version)
	}
	if _, ok := p.LetterRun(closed.ID); ok {
		t.Errorf("closed warning without letter_on has a letter")
	}
	cells := p.HeatMap(serving.ClusterFilter{})
	want := []serving.ClusterCell{
		{County: "320812", Division: "C31", Clusters: 1, Assessed: 1, Enterprises: 10, Checks: 40, Failures: 6, Rate: 0.15, Level: model.LevelYellow, Yellow: 1},
		{County: "320812", Division: "C33", Clusters: 1, Enterprises: 10, Checks: 8},
		{County: "320830", Division: "C30", Clusters: 2, Assessed: 2, Enterprises: 20, Checks: 120, Failures: 17, Rate: 17.0 / 120, Level: model.LevelRed, Red: 1},
	}
	if !slices.Equal(cells, want) {
		t.Errorf("heat map\n %+v\nwant\n %+v", cells, want)
	}
	if f, ok := p.Funnel("C31"); !ok || f.Baseline != 0.07 {
		t.Errorf("funnel of C31: %+v %v", f, ok)
	}
	if as := p.Assessments(serving.ClusterFilter{Status: string(model.AssessmentStatusInsufficientData)}); len(as) != 1 || as[0].Cluster != "320812-C33" {
		t.Errorf("insufficient data: %+v", as)
	}

	clustersRun(t, s, "2025-07-01", map[string]any{model.ClusterKeyRun: model.ClusterRun{AsOf: "2025-07-01"}})
	now = now.AddDate(0, 0, 1)
	if changed, err := rm.Refresh(t.Context()); err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if p := rm.Current().Clusters(); p == nil || p.Run.AsOf != "2025-07-01" || p.Warnings(serving.ClusterFilter{}, 0, 10).Total != 0 {
		t.Errorf("after the refresh: %+v", p)
	}
}
