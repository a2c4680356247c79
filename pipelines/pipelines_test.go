package pipelines_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

var (
	quiet   = slog.New(slog.DiscardHandler)
	simEnd  = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	simAsOf = "2026-06-30"
)

// simulated is a warehouse holding a simulated city and its planted truth.
func simulated(t *testing.T, enterprises int) (*duckdb.Store, simulate.Truth) {
	t.Helper()
	s := duckdbtest.Open(t)
	var buf bytes.Buffer
	truth, err := simulate.Generate(simulate.Config{Enterprises: enterprises, Years: 3, Seed: 11, End: simEnd},
		func(line []byte) error { buf.Write(line); buf.WriteByte('\n'); return nil })
	if err != nil {
		t.Fatal(err)
	}
	im := ingest.Importer{Store: s}
	if _, err := im.Import(t.Context(), "sim.jsonl", &buf); err != nil {
		t.Fatal(err)
	}
	return s, truth
}

func newRunner(t *testing.T, s warehouse.Store, sc *scoring.Scorecard) *pipelines.Runner {
	t.Helper()
	job, err := pipelines.NewScoreJob(s, sc, quiet)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{job}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func defaultScorecard(t *testing.T) *scoring.Scorecard {
	t.Helper()
	sc, err := scoring.Default()
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

type storedScore struct {
	uscc, grade string
	score       int64
	reasons     []model.Reason
}

func runScores(t *testing.T, s *duckdb.Store, runID string) []storedScore {
	t.Helper()
	rows, err := s.DB().QueryContext(t.Context(), `SELECT uscc, grade, score_tenths, reasons FROM scores WHERE run_id = ? ORDER BY uscc`, runID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedScore
	for rows.Next() {
		var sc storedScore
		var reasons string
		if err := rows.Scan(&sc.uscc, &sc.grade, &sc.score, &reasons); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(reasons), &sc.reasons); err != nil {
			t.Fatalf("reasons of %s: %v", sc.uscc, err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type storedEvent struct{ uscc, typ, result string }

func allEvents(t *testing.T, s *duckdb.Store) map[string]storedEvent {
	t.Helper()
	rows, err := s.DB().QueryContext(t.Context(), `SELECT id, uscc, type, result FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]storedEvent{}
	for rows.Next() {
		var id string
		var e storedEvent
		if err := rows.Scan(&id, &e.uscc, &e.typ, &e.result); err != nil {
			t.Fatal(err)
		}
		out[id] = e
	}
	return out
}

func TestScoreOnSimulatedCity(t *testing.T) {
	s, truth := simulated(t, 3000)
	sc := defaultScorecard(t)
	r := newRunner(t, s, sc)

	// Given the same events and scorecard, when score runs twice for one
	// as_of, then both runs record the same digest and store identical scores.
	first, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
	if err != nil {
		t.Fatal(err)
	}
	if first.Digest == "" || first.Digest != second.Digest || first.ID == second.ID || first.ModelVersion != sc.Version {
		t.Fatalf("runs: %+v / %+v", first, second)
	}
	a, b := runScores(t, s, first.ID), runScores(t, s, second.ID)
	if len(a) == 0 || int64(len(a)) != first.Counts["enterprises"] {
		t.Fatalf("scored %d, counts %v", len(a), first.Counts)
	}
	for i := range a {
		if a[i].uscc != b[i].uscc || a[i].score != b[i].score || a[i].grade != b[i].grade || !slices.EqualFunc(a[i].reasons, b[i].reasons, sameReason) {
			t.Fatalf("run outputs differ at %s", a[i].uscc)
		}
	}

	t.Run("every score is explained", func(t *testing.T) {
		// Given every stored score, then base + Σ reasons = score, every
		// reason's events exist and belong to the enterprise, and grade A
		// rests on a passed check or inspection.
		events := allEvents(t, s)
		for _, got := range a {
			total := int64(sc.Base)
			for _, rs := range got.reasons {
				total += int64(rs.Points)
				for _, id := range rs.Events {
					e, ok := events[id]
					if !ok || e.uscc != got.uscc {
						t.Errorf("%s: reason %s cites %q, not one of its events", got.uscc, rs.Rule, id)
					}
				}
			}
			if total != got.score || got.score < 0 || got.score > 1000 {
				t.Errorf("%s: base + Σ reasons = %d, score %d", got.uscc, total, got.score)
			}
			if got.grade == "A" && !hasEvidence(got.reasons, events) {
				t.Errorf("%s: grade A without a passed check or inspection", got.uscc)
			}
		}
	})

	t.Run("planted truth", func(t *testing.T) {
		// Given the simulator's planted bad firms and its clean firms (no
		// negative record), then every bad firm grades C or D and at least
		// 90 % of the clean ones grade A or B.
		grade := map[string]string{}
		for _, got := range a {
			grade[got.uscc] = got.grade
		}
		if len(truth.BadEnterprises) == 0 {
			t.Fatal("the simulation planted no bad enterprises")
		}
		for _, u := range truth.BadEnterprises {
			if g := grade[string(u)]; g != "C" && g != "D" {
				t.Errorf("planted bad enterprise %s grades %q", u, g)
			}
		}
		clean := cleanEnterprises(t, s)
		good := 0
		for _, u := range clean {
			if g := grade[u]; g == "A" || g == "B" {
				good++
			}
		}
		if len(clean) == 0 || float64(good) < 0.9*float64(len(clean)) {
			t.Errorf("%d of %d clean enterprises grade A or B, want ≥ 90 %%", good, len(clean))
		}
		t.Logf("bad %d; clean %d (truth says %d), %d of them A/B; grades %v", len(truth.BadEnterprises), len(clean),
			truth.CleanEnterprisesCount, good, first.Counts)
	})
}

func sameReason(x, y model.Reason) bool {
	return x.Rule == y.Rule && x.Points == y.Points && x.Count == y.Count && slices.Equal(x.Events, y.Events) && slices.Equal(x.Windows, y.Windows) && x.Basis == y.Basis && x.Detail == y.Detail
}

func hasEvidence(reasons []model.Reason, events map[string]storedEvent) bool {
	for _, rs := range reasons {
		if rs.Rule != "grade.a_evidence" {
			continue
		}
		for _, id := range rs.Events {
			e := events[id]
			if (e.typ == string(model.EventSpotCheckCompleted) || e.typ == string(model.EventEquipmentInspected)) && e.result == "pass" {
				return true
			}
		}
	}
	return false
}

// cleanEnterprises are registered firms with no negative record in their
// whole history, as the simulator's truth defines it.
func cleanEnterprises(t *testing.T, s *duckdb.Store) []string {
	t.Helper()
	rows, err := s.DB().QueryContext(t.Context(), `SELECT uscc FROM events GROUP BY uscc
		HAVING count(*) FILTER (WHERE type = 'enterprise.registered') > 0 AND count(*) FILTER (WHERE
			(type IN ('spot_check.completed', 'equipment.inspected') AND result = 'fail')
			OR type IN ('penalty.decided', 'licence.revoked', 'certification.withdrawn', 'equipment.accident')
			OR (type = 'equipment.hazard_found' AND severity = 'serious')
			OR (type = 'complaint.closed' AND result = 'verified')) = 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

func TestModelVersionFollowsScorecardFile(t *testing.T) {
	// Given a scorecard file edited from the default, when score runs with
	// it, then the run records the edited file's version, not the default's.
	s, _ := simulated(t, 200)
	path := filepath.Join(t.TempDir(), "scorecard.yaml")
	edited := bytes.Replace(scoring.DefaultYAML(), []byte("points: -8\n"), []byte("points: -9\n"), 1)
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scoring.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	def := defaultScorecard(t)
	runDefault, err := newRunner(t, s, def).Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
	if err != nil {
		t.Fatal(err)
	}
	runEdited, err := newRunner(t, s, sc).Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
	if err != nil {
		t.Fatal(err)
	}
	if runDefault.ModelVersion != def.Version || runEdited.ModelVersion != sc.Version || sc.Version == def.Version {
		t.Errorf("versions: default run %s (%s), edited run %s (%s)", runDefault.ModelVersion, def.Version, runEdited.ModelVersion, sc.Version)
	}
	runs, err := newRunner(t, s, sc).Runs(t.Context(), warehouse.RunFilter{Job: pipelines.JobScore})
	if err != nil || len(runs) != 2 || runs[0].ModelVersion != sc.Version {
		t.Errorf("stored runs: %+v %v", runs, err)
	}
}

// blockingJob runs until released, to hold a job's lock.
type blockingJob struct{ started, release chan struct{} }

func (j blockingJob) Name() string         { return "block" }
func (j blockingJob) Schedule() string     { return "off" }
func (j blockingJob) ModelVersion() string { return "v1" }
func (j blockingJob) Run(ctx context.Context, in pipelines.RunInput) (pipelines.Output, error) {
	close(j.started)
	<-j.release
	return pipelines.Output{Counts: map[string]int64{"n": 1}, Digest: "d"}, nil
}

func TestOneRunPerJobAtATime(t *testing.T) {
	// Given a run of a job in progress, when the job is triggered again,
	// then the second trigger is refused with ErrRunning, and the first run
	// still succeeds.
	s := duckdbtest.Open(t)
	job := blockingJob{started: make(chan struct{}), release: make(chan struct{})}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{job}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(t.Context(), pipelines.RunRequest{Job: "block", AsOf: "2026-01-01"})
		done <- err
	}()
	<-job.started
	if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: "block"}); !errors.Is(err, pipelines.ErrRunning) {
		t.Errorf("second trigger: want ErrRunning, got %v", err)
	}
	close(job.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: "nope"}); !errors.Is(err, pipelines.ErrUnknownJob) {
		t.Errorf("unknown job: got %v", err)
	}
	runs, err := r.Runs(t.Context(), warehouse.RunFilter{})
	if err != nil || len(runs) != 1 || runs[0].Status != warehouse.RunSucceeded || runs[0].Digest != "d" || runs[0].AsOf != "2026-01-01" {
		t.Errorf("runs: %+v %v", runs, err)
	}
}
