package warehouse

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// RunStatus is the state of a pipeline run.
type RunStatus string

const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
)

// Run is the record of one pipeline run. A run is a function of its job's
// model version, its as_of and its watermark: it reads the events with
// occurred_at before the end of the as_of day and ingested_at ≤ Watermark,
// so re-running it with the same watermark reproduces its outputs (and
// digest) even after late reports arrived.
type Run struct {
	// ID is "<job>-<version>", e.g. "score-12".
	ID      string `json:"id"`
	Job     string `json:"job"`
	Version int    `json:"version"` // per job, from 1, increasing
	AsOf    string `json:"as_of"`   // YYYY-MM-DD
	// Watermark is the greatest ingested_at the run read (microseconds).
	Watermark time.Time `json:"watermark"`
	// Like is the run whose watermark this one reused (--like), else "".
	Like         string           `json:"like,omitempty"`
	ModelVersion string           `json:"model_version"`
	StartedAt    time.Time        `json:"started_at"`
	FinishedAt   *time.Time       `json:"finished_at,omitempty"`
	Status       RunStatus        `json:"status"`
	Counts       map[string]int64 `json:"counts"`
	// Digest is the SHA-256 of the run's outputs in canonical order.
	Digest string `json:"digest,omitempty"`
	Error  string `json:"error,omitempty"`
}

// RunID is the id of a job's run version.
func RunID(job string, version int) string { return fmt.Sprintf("%s-%d", job, version) }

// RunFilter selects run records; zero values select all.
type RunFilter struct {
	Job    string
	Status RunStatus
	Limit  int
}

// ByRecency orders runs as "the current output" ranks them: greatest as_of
// first, then greatest watermark, then latest version.
func ByRecency(a, b Run) int {
	return cmp.Or(cmp.Compare(b.AsOf, a.AsOf), b.Watermark.Compare(a.Watermark), cmp.Compare(b.Version, a.Version))
}

// CurrentRun is the run whose outputs users see for job: of its succeeded
// runs with as_of not after today (YYYY-MM-DD, Asia/Shanghai), the one with
// the greatest as_of, then the greatest watermark, then the latest version.
// So a backfill or a re-run of an old run (--like) never replaces what the
// public, partners and dashboards see, while a re-run of today's as_of that
// read late reports does. It is the one definition of "current" for every
// job and backend.
func CurrentRun(runs []Run, job, today string) (Run, bool) {
	var best Run
	found := false
	for _, r := range runs {
		if r.Job != job || r.Status != RunSucceeded || r.AsOf > today {
			continue
		}
		if !found || ByRecency(r, best) < 0 {
			best, found = r, true
		}
	}
	return best, found
}

// EncodeCounts is the stored form of a run's counts.
func EncodeCounts(c map[string]int64) (string, error) {
	if c == nil {
		c = map[string]int64{}
	}
	b, err := json.Marshal(c)
	return string(b), err
}

// DecodeCounts reads the stored form of a run's counts.
func DecodeCounts(s string) (map[string]int64, error) {
	c := map[string]int64{}
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("run counts: %w", err)
	}
	return c, nil
}

// Validate checks a run record before it is stored.
func (r Run) Validate() error {
	var errs []error
	if r.Job == "" {
		errs = append(errs, errors.New("job is required"))
	}
	if _, err := time.Parse(time.DateOnly, r.AsOf); err != nil {
		errs = append(errs, fmt.Errorf("as_of %q is not YYYY-MM-DD", r.AsOf))
	}
	switch r.Status {
	case RunRunning, RunSucceeded, RunFailed:
	default:
		errs = append(errs, fmt.Errorf("status %q is not running, succeeded or failed", r.Status))
	}
	return errors.Join(errs...)
}

// OutputRow is one keyed output of a run. Every job stores its outputs this
// way: Key identifies the output within the run (the USCC for a score, a
// list entry's key, a cluster id); USCC is the enterprise it concerns, or
// "" for outputs about no single enterprise; Label and Value are its
// headline (a grade and a score in tenths; a list and a status; a warning
// level), readable without parsing Payload, the output's full JSON.
type OutputRow struct {
	Key     string
	USCC    string
	Label   string
	Value   int64
	Payload []byte
}

// OutputQuery selects the outputs of one run version.
type OutputQuery struct {
	Job     string
	Version int
	// Payload asks for the payloads too; without it they are left empty
	// and not read (a score run's reasons are most of its bytes).
	Payload bool
}

// VersionedOutput is one output of a run with the run it belongs to.
type VersionedOutput struct {
	Run Run
	OutputRow
}

// EventCount selects events for counting by when they occurred and when
// they were ingested: occurred_at < OccurredBefore and IngestedAfter <
// ingested_at ≤ IngestedUpTo (zero times: no bound).
type EventCount struct {
	OccurredBefore time.Time
	IngestedAfter  time.Time
	IngestedUpTo   time.Time
}

// LatestOutputs orders outputs by their runs' recency (ByRecency, then key)
// and keeps at most limit (all when limit ≤ 0).
func LatestOutputs(out []VersionedOutput, limit int) []VersionedOutput {
	slices.SortFunc(out, func(a, b VersionedOutput) int {
		return cmp.Or(ByRecency(a.Run, b.Run), cmp.Compare(a.Key, b.Key))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []VersionedOutput{}
	}
	return out
}

// History puts outputs of one enterprise (with the version of the run each
// came from) together with their runs: only those of succeeded runs, the
// current ranking first (LatestOutputs). Backends read the rows their way
// and share this.
func History(runs []Run, rows []VersionedRow, limit int) []VersionedOutput {
	byVersion := make(map[int]Run, len(runs))
	for _, r := range runs {
		if r.Status == RunSucceeded {
			byVersion[r.Version] = r
		}
	}
	var out []VersionedOutput
	for _, row := range rows {
		if r, ok := byVersion[row.Version]; ok {
			out = append(out, VersionedOutput{Run: r, OutputRow: row.OutputRow})
		}
	}
	return LatestOutputs(out, limit)
}

// VersionedRow is an output with the version of the run it came from.
type VersionedRow struct {
	Version int
	OutputRow
}
