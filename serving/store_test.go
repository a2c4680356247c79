package serving_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

var quiet = slog.New(slog.DiscardHandler)

func register(t *testing.T, s *duckdb.Store, id string, u model.USCC, name, region, industry string) {
	t.Helper()
	it := conformance.Event(t, id, model.EventEnterpriseRegistered, u, time.Date(2024, 1, 2, 9, 0, 0, 0, model.Shanghai),
		map[string]any{"name": name, "region": region, "industry": industry})
	if _, err := s.Write(t.Context(), warehouse.Batch{Items: []warehouse.Item{it}}); err != nil {
		t.Fatal(err)
	}
}

// run records a succeeded run of job with outputs.
func run(t *testing.T, s *duckdb.Store, job, asOf string, outputs ...warehouse.OutputRow) warehouse.Run {
	t.Helper()
	wm, _ := s.Watermark(t.Context())
	r, err := s.BeginRun(t.Context(), warehouse.Run{Job: job, AsOf: asOf, Watermark: wm, StartedAt: time.Now(),
		Status: warehouse.RunRunning, Counts: map[string]int64{}, ModelVersion: "v"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteOutputs(t.Context(), job, r.Version, outputs); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	r.Status, r.FinishedAt = warehouse.RunSucceeded, &end
	if err := s.FinishRun(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// countPart is a job's part: how many outputs its run had.
type countPart struct{ n int }

func (p countPart) Bytes() int64 { return 8 }

func TestReadModel(t *testing.T) {
	s := duckdbtest.Open(t)
	a, b, c := conformance.FirmA, conformance.FirmB, model.CompleteUSCC("91320826MA1CCC03")
	register(t, s, "e-a", a, "盱眙龙虾食品有限公司", "320830", "C1361")
	register(t, s, "e-b", b, "淮安特钢有限公司", "320812", "C3130")
	run(t, s, "score", "2025-06-30",
		warehouse.OutputRow{Key: string(a), USCC: string(a), Label: "A", Value: 960},
		warehouse.OutputRow{Key: string(b), USCC: string(b), Label: "D", Value: 550})
	run(t, s, "lists", "2025-06-30", warehouse.OutputRow{Key: "x"})
	loads := 0
	rm, err := serving.NewStore(s, quiet, serving.Options{DirectoryInterval: time.Nanosecond, Parts: []serving.PartLoader{{Job: "lists",
		Load: func(ctx context.Context, src serving.Source, r warehouse.Run, m *serving.Model) (serving.Part, error) {
			loads++
			n := 0
			err := src.ReadOutputs(ctx, warehouse.OutputQuery{Job: r.Job, Version: r.Version}, func(warehouse.OutputRow) error { n++; return nil })
			return countPart{n}, err
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rm.Load(t.Context()); err != nil {
		t.Fatal(err)
	}

	t.Run("firms with their grades", func(t *testing.T) {
		m := rm.Current()
		f, ok := m.Firm(a)
		if !ok || f.Name != "盱眙龙虾食品有限公司" || f.Region != "320830" || f.Grade != model.GradeA || f.Score != 960 || f.ClusterKey() != "320830-C13" {
			t.Errorf("firm A: %+v %v", f, ok)
		}
		if _, ok := m.Firm(c); ok {
			t.Error("an unregistered firm was found")
		}
		if p := m.Firms(serving.FirmFilter{Grade: model.GradeD}, 0, 10); p.Total != 1 || p.Items[0].USCC != b {
			t.Errorf("grade D: %+v", p)
		}
		if p := m.Firms(serving.FirmFilter{Region: "320800"}, 1, 10); p.Total != 2 || len(p.Items) != 1 {
			t.Errorf("the city, page 2: %+v", p)
		}
		if g := m.GradeCounts(serving.FirmFilter{}); g[model.GradeA] != 1 || g[model.GradeD] != 1 || g[model.GradeB] != 0 {
			t.Errorf("grade counts: %v", g)
		}
		if p, ok := m.Part("lists").(countPart); !ok || p.n != 1 || loads != 1 {
			t.Errorf("lists part %+v, loaded %d times", m.Part("lists"), loads)
		}
	})
	t.Run("a firm registered after the load", func(t *testing.T) {
		// Given a new registration, when the model refreshes, then the firm
		// is found (ungraded) without a full reload, and the others keep
		// their grades.
		register(t, s, "e-c", c, "涟水酒业有限公司", "320826", "C1512")
		if _, err := rm.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		m := rm.Current()
		f, ok := m.Firm(c)
		if !ok || f.Name != "涟水酒业有限公司" || f.Grade != "" {
			t.Errorf("new firm: %+v %v", f, ok)
		}
		if g, _ := m.Firm(b); g.Grade != model.GradeD || m.Enterprises() != 3 || loads != 1 {
			t.Errorf("firm B %+v, %d enterprises, lists loaded %d times", g, m.Enterprises(), loads)
		}
		if p := m.Firms(serving.FirmFilter{}, 0, 10); p.Total != 3 || p.Items[0].USCC > p.Items[1].USCC || p.Items[1].USCC > p.Items[2].USCC {
			t.Errorf("listing with the new firm: %+v", p)
		}
	})
	t.Run("a new run of one job reloads its part only", func(t *testing.T) {
		run(t, s, "lists", "2025-06-30", warehouse.OutputRow{Key: "x"}, warehouse.OutputRow{Key: "y"})
		if changed, err := rm.Refresh(t.Context()); err != nil || !changed {
			t.Fatalf("refresh: %v %v", changed, err)
		}
		m := rm.Current()
		if p := m.Part("lists").(countPart); p.n != 2 || loads != 2 {
			t.Errorf("lists part %+v after its new run, loaded %d times", p, loads)
		}
		if r, _ := m.Run("lists"); r.Version != 2 {
			t.Errorf("lists run %+v", r)
		}
	})
	t.Run("a new score run reloads the grades", func(t *testing.T) {
		run(t, s, "score", "2025-07-31", warehouse.OutputRow{Key: string(a), USCC: string(a), Label: "B", Value: 800})
		if _, err := rm.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		m := rm.Current()
		if f, _ := m.Firm(a); f.Grade != model.GradeB {
			t.Errorf("firm A after the new score run: %+v", f)
		}
		if f, _ := m.Firm(b); f.Grade != "" {
			t.Errorf("firm B is not in the new run: %+v", f)
		}
		if f, _ := m.Firm(c); f.Name == "" {
			t.Error("the full reload lost the new firm")
		}
	})
}
