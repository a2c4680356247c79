package pipelines_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// backend is what these tests need of a warehouse.
type backend interface {
	warehouse.Store
	pipelines.RunStore
	pipelines.ScoreFeatures
	pipelines.ActivitySource
	ReadOutputs(ctx context.Context, q warehouse.OutputQuery, fn func(warehouse.OutputRow) error) error
}

func newRunner(t *testing.T, s backend, sc *scoring.Scorecard, opts ...pipelines.RunnerOptions) *pipelines.Runner {
	t.Helper()
	var o pipelines.RunnerOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	o.Jobs = append(o.Jobs, pipelines.NewScoreJob(s, sc, quiet))
	r, err := pipelines.NewRunner(s, quiet, o)
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

// runScores reads a score run's outputs back, as serving and the API do.
func runScores(t *testing.T, s backend, run warehouse.Run) []storedScore {
	t.Helper()
	var out []storedScore
	err := s.ReadOutputs(t.Context(), warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true}, func(o warehouse.OutputRow) error {
		sc := storedScore{uscc: o.USCC, grade: o.Label, score: o.Value}
		if err := json.Unmarshal(o.Payload, &sc.reasons); err != nil {
			return fmt.Errorf("reasons of %s: %w", sc.uscc, err)
		}
		out = append(out, sc)
		return nil
	})
	if err != nil {
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
	if first.Digest == "" || first.Digest != second.Digest || first.ID != "score-1" || second.ID != "score-2" ||
		first.ModelVersion != sc.Version || second.Counts["late_events"] != 0 {
		t.Fatalf("runs: %+v / %+v", first, second)
	}
	a, b := runScores(t, s, first), runScores(t, s, second)
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

// blockingJob runs until released, to hold a job's lock, and writes one
// output.
type blockingJob struct{ started, release chan struct{} }

func (j blockingJob) Name() string         { return "block" }
func (j blockingJob) Schedule() string     { return "off" }
func (j blockingJob) ModelVersion() string { return "v1" }
func (j blockingJob) Run(ctx context.Context, in pipelines.RunInput) (pipelines.Output, error) {
	close(j.started)
	<-j.release
	if err := in.Outputs.Add(warehouse.OutputRow{Key: "k", Label: "l", Value: 1}); err != nil {
		return pipelines.Output{}, err
	}
	return pipelines.Output{Counts: map[string]int64{"n": 1}}, nil
}

func TestOneRunPerJobAtATime(t *testing.T) {
	// Given a run of a job in progress, when the job is triggered again in
	// the same process or by another replica (another runner, another lease
	// holder, on the same warehouse), then both triggers are refused with
	// ErrRunning, and the first run still succeeds with its output's digest.
	s := duckdbtest.Open(t)
	job := blockingJob{started: make(chan struct{}), release: make(chan struct{})}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{job}, Holder: "replica-1"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{job}, Holder: "replica-2"})
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
	if _, err := other.Run(t.Context(), pipelines.RunRequest{Job: "block"}); !errors.Is(err, pipelines.ErrRunning) || !strings.Contains(err.Error(), "another replica") {
		t.Errorf("trigger on another replica: want ErrRunning, got %v", err)
	}
	close(job.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: "nope"}); !errors.Is(err, pipelines.ErrUnknownJob) {
		t.Errorf("unknown job: got %v", err)
	}
	runs, err := r.Runs(t.Context(), warehouse.RunFilter{})
	want := sha256.Sum256([]byte("k\t1\tl\t\n"))
	if err != nil || len(runs) != 1 || runs[0].Status != warehouse.RunSucceeded || runs[0].Digest != hex.EncodeToString(want[:]) ||
		runs[0].AsOf != "2026-01-01" || runs[0].ID != "block-1" {
		t.Errorf("runs: %+v %v", runs, err)
	}
	// The lease went with the run: the other replica may run the job now.
	job2 := blockingJob{started: make(chan struct{}), release: make(chan struct{})}
	close(job2.release)
	other2, _ := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{job2}, Holder: "replica-2"})
	if run, err := other2.Run(t.Context(), pipelines.RunRequest{Job: "block", AsOf: "2026-01-01"}); err != nil || run.Version != 2 {
		t.Errorf("run on the other replica after the first finished: %+v %v", run, err)
	}
}

// unorderedJob writes its outputs out of key order.
type unorderedJob struct{}

func (unorderedJob) Name() string         { return "unordered" }
func (unorderedJob) Schedule() string     { return "off" }
func (unorderedJob) ModelVersion() string { return "v1" }
func (unorderedJob) Run(ctx context.Context, in pipelines.RunInput) (pipelines.Output, error) {
	for _, k := range []string{"b", "a"} {
		if err := in.Outputs.Add(warehouse.OutputRow{Key: k}); err != nil {
			return pipelines.Output{}, err
		}
	}
	return pipelines.Output{}, nil
}

func TestRunsAreRefusedOrFailedClearly(t *testing.T) {
	s := duckdbtest.Open(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, pipelines.Shanghai)
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{unorderedJob{}}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("as_of after today", func(t *testing.T) {
		// Given today 2026-12-01 in Shanghai, when a run as of 2026-12-02 is
		// asked for, then it is refused before anything is recorded.
		_, err := r.Run(t.Context(), pipelines.RunRequest{Job: "unordered", AsOf: "2026-12-02"})
		if !errors.Is(err, pipelines.ErrFuture) || !strings.Contains(err.Error(), "after today (2026-12-01") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("outputs out of order", func(t *testing.T) {
		// Given a job that writes keys out of order, then its run fails,
		// saying so, and its record says failed.
		run, err := r.Run(t.Context(), pipelines.RunRequest{Job: "unordered", AsOf: "2026-12-01"})
		if err == nil || !strings.Contains(err.Error(), "ascending key order") || run.Status != warehouse.RunFailed {
			t.Errorf("got %+v, %v", run, err)
		}
	})
	t.Run("like an unknown run", func(t *testing.T) {
		_, err := r.Run(t.Context(), pipelines.RunRequest{Job: "unordered", Like: "unordered-99"})
		if err == nil || !strings.Contains(err.Error(), "no run unordered-99") {
			t.Errorf("got %v", err)
		}
	})
	runs, _ := r.Runs(t.Context(), warehouse.RunFilter{})
	if len(runs) != 1 {
		t.Errorf("runs recorded: %+v", runs)
	}
}
