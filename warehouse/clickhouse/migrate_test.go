package clickhouse_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
)

func TestMigrationMovesEventsRunsAndScoresWhole(t *testing.T) {
	// Given a warehouse at migration 002 holding events of three firms, two
	// score runs (one failed) and the succeeded run's scores, when it is
	// migrated (twice: a migration that died half way runs again), then
	// each event is in the USCC-ordered copy once with its microsecond
	// stamp, the runs are versions 1 and 2 of score with their start as
	// watermark, and the scores are the outputs of version 1, once each.
	ctx := t.Context()
	url := testURL(t)
	s, err := clickhouse.Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MigrateTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	db := s.Schema().DB
	exec := func(q string, args ...any) {
		t.Helper()
		if err := s.Conn().Exec(ctx, q, args...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	firms := []model.USCC{model.CompleteUSCC("91320830MA1AAA01"), model.CompleteUSCC("91320812MA1BBB02"), model.CompleteUSCC("91320826MA1CCC03")}
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, model.Shanghai)
	for i := range 30 {
		u := firms[i%3]
		typ, data := "spot_check.completed", `{"check_id":"C","product":"p","result":"pass"}`
		if i < 3 {
			typ, data = "enterprise.registered", fmt.Sprintf(`{"industry":"C3311","name":"企业%d","region":"%s"}`, i, u[2:8])
		}
		exec(fmt.Sprintf(`INSERT INTO %s.events (id, type, uscc, source, occurred_at, ref, link, result, severity, category, data, hash, origin, ingested_at)
			SELECT '320830-%02d', '%s', '%s', '320830', toDateTime(%d), '', '', 'pass', '', '', '%s', %d, 'file:x:1', toDateTime(%d)`,
			db, i, typ, u, t0.Add(time.Duration(i)*time.Hour).Unix(), data, i, t0.AddDate(0, 1, 0).Unix()))
	}
	started := time.Date(2025, 7, 1, 2, 0, 0, 0, model.Shanghai)
	for i, st := range []string{"succeeded", "failed"} {
		at := started.Add(time.Duration(i) * time.Hour).Unix()
		exec(fmt.Sprintf(`INSERT INTO %s.pipeline_runs (id, job, as_of, started_at, finished_at, status, counts, model_version, digest, error, version)
			SELECT 'score-old-%d', 'score', toDate('2025-06-30'), toDateTime(%d), toDateTime(%d), '%s', '{}', 'sc-1', '', '', 2`, db, i, at, at+60, st))
	}
	for i, u := range firms {
		exec(fmt.Sprintf(`INSERT INTO %s.scores (run_id, uscc, as_of, model_version, score_tenths, grade, reasons)
			SELECT 'score-old-0', '%s', toDate('2025-06-30'), 'sc-1', %d, 'A', '[]'`, db, u, 950+i))
	}

	// Migration 003 once (as if the process died after it), then all.
	if _, err := s.MigrateTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	exec(fmt.Sprintf(`ALTER TABLE %s.schema_migrations DELETE WHERE version = 3`, db))
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var events, copies uint64
	if err := s.Conn().QueryRow(ctx, fmt.Sprintf(`SELECT (SELECT uniqExact(id) FROM %[1]s.events), (SELECT count() FROM %[1]s.events_by_uscc FINAL)`, db)).
		Scan(&events, &copies); err != nil {
		t.Fatal(err)
	}
	if events != 30 || copies != 30 {
		t.Errorf("%d events, %d in the USCC-ordered copy; want 30 and 30", events, copies)
	}
	wm, err := s.Watermark(ctx)
	if err != nil || !wm.Equal(t0.AddDate(0, 1, 0)) {
		t.Errorf("watermark of migrated events %v, %v; want %v", wm, err, t0.AddDate(0, 1, 0))
	}
	for _, u := range firms {
		if tl, err := s.Timeline(ctx, u, 100); err != nil || len(tl) != 10 {
			t.Errorf("timeline of %s: %d events, %v", u, len(tl), err)
		}
		if e, err := s.Enterprise(ctx, u); err != nil || e.Name == "" {
			t.Errorf("enterprise %s: %+v %v", u, e, err)
		}
	}
	runs, err := s.Runs(ctx, warehouse.RunFilter{Job: "score"})
	if err != nil || len(runs) != 2 || runs[1].ID != "score-1" || !runs[1].Watermark.Equal(started) ||
		runs[1].Status != warehouse.RunSucceeded || runs[0].ID != "score-2" || runs[0].Status != warehouse.RunFailed {
		t.Fatalf("runs: %+v %v", runs, err)
	}
	n := 0
	err = s.ReadOutputs(ctx, warehouse.OutputQuery{Job: "score", Version: 1}, func(warehouse.OutputRow) error { n++; return nil })
	if err != nil || n != 3 {
		t.Errorf("outputs of score-1: %d, %v; want 3 (once each after the repeated migration)", n, err)
	}
	for i, u := range firms {
		h, err := s.OutputHistory(ctx, "score", u, 10)
		if err != nil || len(h) != 1 || h[0].Run.ID != "score-1" || h[0].Value != int64(950+i) {
			t.Errorf("history of %s: %+v %v", u, h, err)
		}
	}
}
