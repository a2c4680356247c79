package duckdb_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

func TestMigrationMovesEventsRunsAndScoresWhole(t *testing.T) {
	// Given a warehouse at migration 002 holding events of three firms in
	// arrival order, two score runs (one failed) and the succeeded run's
	// scores, when it is migrated, then every event is there once, in USCC
	// order with its sort key, the runs are versions 1 and 2 of score with
	// their start as watermark, and the scores are the outputs of version 1.
	ctx := t.Context()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "w.duckdb"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MigrateTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	firms := []model.USCC{model.CompleteUSCC("91320830MA1AAA01"), model.CompleteUSCC("91320812MA1BBB02"), model.CompleteUSCC("91320826MA1CCC03")}
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, model.Shanghai)
	var ids []string
	for i := range 30 { // arrival order interleaves the firms
		u := firms[i%3]
		typ, data := "spot_check.completed", `{"check_id":"C","product":"p","result":"pass"}`
		if i < 3 {
			typ, data = "enterprise.registered", fmt.Sprintf(`{"industry":"C3311","name":"企业%d","region":"%s"}`, i, u[2:8])
		}
		id := fmt.Sprintf("320830-%02d", i)
		ids = append(ids, id)
		_, err := s.DB().ExecContext(ctx, `INSERT INTO events VALUES (?, ?, ?, '320830', ?, NULL, '', '', 'pass', '', '', NULL, NULL, ?, ?, 'file:x:1', ?)`,
			id, typ, string(u), t0.Add(time.Duration(i)*time.Hour), data, uint64(i), t0.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.DB().ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	started := time.Date(2025, 7, 1, 2, 0, 0, 0, model.Shanghai)
	exec(`INSERT INTO pipeline_runs VALUES ('score-2025-06-30-1', 'score', DATE '2025-06-30', ?, ?, 'succeeded', '{"enterprises":3}', 'sc-1', 'd1', '')`,
		started, started.Add(time.Minute))
	exec(`INSERT INTO pipeline_runs VALUES ('score-2025-06-30-2', 'score', DATE '2025-06-30', ?, ?, 'failed', '{}', 'sc-1', '', 'boom')`,
		started.Add(time.Hour), started.Add(time.Hour+time.Minute))
	for i, u := range firms {
		exec(`INSERT INTO scores VALUES ('score-2025-06-30-1', ?, DATE '2025-06-30', 'sc-1', ?, 'A', '[]')`, string(u), 950+i)
	}

	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var n, sorted int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*), (SELECT sorted_rows FROM events_layout) FROM events`).Scan(&n, &sorted); err != nil {
		t.Fatal(err)
	}
	if n != 30 || sorted != 30 {
		t.Errorf("%d events (%d sorted), want 30", n, sorted)
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT uscc, ukey FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	for rows.Next() {
		var u string
		var k int64
		rows.Scan(&u, &k)
		if u < prev || k != model.USCC(u).SortKey() {
			t.Errorf("event of %s (key %d) after %s: not in USCC order or wrong key", u, k, prev)
		}
		prev = u
	}
	rows.Close()
	got := map[string]bool{}
	for _, u := range firms {
		tl, err := s.Timeline(ctx, u, 100)
		if err != nil || len(tl) != 10 {
			t.Errorf("timeline of %s: %d events, %v", u, len(tl), err)
		}
		for _, e := range tl {
			got[e.ID] = true
		}
		if e, err := s.Enterprise(ctx, u); err != nil || e.Name == "" {
			t.Errorf("enterprise %s: %+v %v", u, e, err)
		}
	}
	if len(got) != len(ids) {
		t.Errorf("%d distinct events read back, want %d", len(got), len(ids))
	}
	runs, err := s.Runs(ctx, warehouse.RunFilter{Job: "score"})
	if err != nil || len(runs) != 2 || runs[1].ID != "score-1" || runs[1].Version != 1 || !runs[1].Watermark.Equal(started) ||
		runs[1].Status != warehouse.RunSucceeded || runs[0].ID != "score-2" || runs[0].Error != "boom" {
		t.Fatalf("runs: %+v %v", runs, err)
	}
	for i, u := range firms {
		h, err := s.OutputHistory(ctx, "score", u, 10)
		if err != nil || len(h) != 1 || h[0].Run.ID != "score-1" || h[0].Value != int64(950+i) || h[0].Label != "A" {
			t.Errorf("history of %s: %+v %v", u, h, err)
		}
	}
}
