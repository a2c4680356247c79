package pipelines_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// bothBackends are a fresh DuckDB and a fresh ClickHouse warehouse.
func bothBackends(t *testing.T) map[string]backend {
	t.Helper()
	base := testenv.ClickHouse(t)
	b := make([]byte, 6)
	rand.Read(b)
	ch, err := clickhouse.Open(t.Context(), base+"/qcredit_test_"+hex.EncodeToString(b), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ch.DropDatabase(context.WithoutCancel(t.Context()))
		ch.Close()
	})
	if _, err := ch.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return map[string]backend{"duckdb": duckdbtest.Open(t), "clickhouse": ch}
}

func simulatedLines(t *testing.T, enterprises int, seed int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := simulate.Generate(simulate.Config{Enterprises: enterprises, Years: 3, Seed: seed, End: simEnd},
		func(line []byte) error { buf.Write(line); buf.WriteByte('\n'); return nil }); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestScoreIsIdenticalOnBothBackends(t *testing.T) {
	// Given the same simulated city imported into DuckDB and ClickHouse,
	// when score runs as of the same day with the same scorecard, then both
	// runs have the same counts and the same output digest.
	lines := simulatedLines(t, 1500, 5)
	sc := defaultScorecard(t)
	runs := map[string]warehouse.Run{}
	for name, s := range bothBackends(t) {
		if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(lines)); err != nil {
			t.Fatal(err)
		}
		run, err := newRunner(t, s, sc).Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runs[name] = run
	}
	d, c := runs["duckdb"], runs["clickhouse"]
	if d.Digest != c.Digest || d.Counts["enterprises"] == 0 {
		t.Errorf("DuckDB run %+v\nClickHouse run %+v", d, c)
	}
	for k, v := range d.Counts {
		if c.Counts[k] != v {
			t.Errorf("count %s: DuckDB %d, ClickHouse %d", k, v, c.Counts[k])
		}
	}
}

func TestLateReportsAndReproducibleReruns(t *testing.T) {
	// Given a simulated city imported and scored as of 2026-06-30, when
	// failed checks of some firms that occurred before the as_of arrive
	// late (imported after the run), then a re-run --like the first run has
	// the first run's digest exactly, while a plain re-run reads them:
	// another digest, late_events = their number, lower scores for those
	// firms; and a run with the plain re-run's watermark reproduces it.
	// On both backends.
	lines := simulatedLines(t, 400, 7)
	sc := defaultScorecard(t)
	for name, s := range bothBackends(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(lines)); err != nil {
				t.Fatal(err)
			}
			r := newRunner(t, s, sc)
			first, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
			if err != nil {
				t.Fatal(err)
			}
			before := runScores(t, s, first)
			late := lateFailures(t, before[:5])
			if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "late.jsonl", bytes.NewReader(late)); err != nil {
				t.Fatal(err)
			}

			like, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, Like: first.ID})
			if err != nil {
				t.Fatal(err)
			}
			if like.Digest != first.Digest || like.AsOf != first.AsOf || !like.Watermark.Equal(first.Watermark) || like.Like != first.ID {
				t.Errorf("--like %s: %+v, want digest %s", first.ID, like, first.Digest)
			}
			if _, ok := like.Counts["late_events"]; ok {
				t.Errorf("a --like run counts no late events: %v", like.Counts)
			}

			plain, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
			if err != nil {
				t.Fatal(err)
			}
			if plain.Digest == first.Digest || plain.Counts["late_events"] != 5 || !plain.Watermark.After(first.Watermark) {
				t.Errorf("plain re-run: %+v (late_events %d), want a new digest and 5 late events", plain, plain.Counts["late_events"])
			}
			after := runScores(t, s, plain)
			for i := range 5 {
				if after[i].uscc != before[i].uscc || after[i].score >= before[i].score {
					t.Errorf("%s scores %d after its late failure, %d before", before[i].uscc, after[i].score, before[i].score)
				}
			}
			again, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf, Watermark: plain.Watermark})
			if err != nil || again.Digest != plain.Digest {
				t.Errorf("--watermark of the plain re-run: %+v %v", again, err)
			}
		})
	}
}

// lateFailures are one critical failed spot check per firm, dated before the
// as_of, as JSONL.
func lateFailures(t *testing.T, firms []storedScore) []byte {
	t.Helper()
	var b strings.Builder
	for i, f := range firms {
		fmt.Fprintf(&b, `{"id":"320800-late-%d","type":"%s","uscc":"%s","source":"320800","occurred_at":"2026-06-15T10:00:00+08:00",`+
			`"data":{"check_id":"LATE-%d","product":"电线电缆","result":"fail","severity":"critical","level":"city"}}`+"\n",
			i, model.EventSpotCheckCompleted, f.uscc, i)
	}
	return []byte(b.String())
}

func TestRetractedCheckNoLongerCosts(t *testing.T) {
	// Given a scored simulated city, when the bureau that reported a firm's
	// failed spot check retracts it, then the next run scores the firm
	// without that check's deduction, on both backends (and the run --like
	// the first one still has its digest).
	lines := simulatedLines(t, 400, 7)
	sc := defaultScorecard(t)
	for name, s := range bothBackends(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(lines)); err != nil {
				t.Fatal(err)
			}
			r := newRunner(t, s, sc)
			first, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
			if err != nil {
				t.Fatal(err)
			}
			firm, check, points := failedCheck(t, runScores(t, s, first))
			source := eventSource(t, lines, check)
			retraction := fmt.Sprintf(`{"id":"%s-retract-1","type":"event.retracted","uscc":"%s","source":"%s","occurred_at":"2026-06-20T10:00:00+08:00",`+
				`"data":{"event_id":"%s","reason":"录入错误"}}`+"\n", source, firm.uscc, source, check)
			sum, err := (ingest.Importer{Store: s}).Import(t.Context(), "retract.jsonl", strings.NewReader(retraction))
			if err != nil || sum.Stored != 1 {
				t.Fatalf("retraction: %+v %v", sum, err)
			}
			second, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
			if err != nil {
				t.Fatal(err)
			}
			var after storedScore
			for _, sc := range runScores(t, s, second) {
				if sc.uscc == firm.uscc {
					after = sc
				}
			}
			if after.score != firm.score-points {
				t.Errorf("%s scored %d, then %d after its check %s (%d points) was retracted; want %d",
					firm.uscc, firm.score, after.score, check, points, firm.score-points)
			}
			if like, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, Like: first.ID}); err != nil || like.Digest != first.Digest {
				t.Errorf("--like the run before the retraction: %+v %v", like, err)
			}
		})
	}
}

// failedCheck is a firm whose score has exactly one minor failed check (so
// retracting it gives back that reason's points, with nothing capped), that
// check's event id and the reason's points.
func failedCheck(t *testing.T, scores []storedScore) (storedScore, string, int64) {
	t.Helper()
	for _, sc := range scores {
		for _, r := range sc.reasons {
			if r.Rule == "spot_check.fail.minor" && len(r.Events) == 1 && len(sc.reasons) <= 3 && sc.score > 200 {
				return sc, r.Events[0], int64(r.Points)
			}
		}
	}
	t.Fatal("no firm with exactly one minor failed check")
	return storedScore{}, "", 0
}

// eventSource is the source of an event in simulated lines.
func eventSource(t *testing.T, lines []byte, id string) string {
	t.Helper()
	for _, l := range strings.Split(string(lines), "\n") {
		var e model.Event
		if json.Unmarshal([]byte(l), &e) == nil && e.ID == id {
			return e.Source
		}
	}
	t.Fatalf("no event %s", id)
	return ""
}
