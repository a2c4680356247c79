// Package conformance is the behaviour suite every warehouse backend must
// pass on the same fixtures. A backend's tests call Run with a function that
// opens a fresh, migrated, empty store.
package conformance

import (
	"context"
	"encoding/json"
	"errors"

	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Backend is everything the suite checks of a warehouse backend: the Store
// and what the pipelines, serving and the credit file read and write.
type Backend interface {
	warehouse.Store
	ScoreFeatures(ctx context.Context, q warehouse.FeatureQuery, fn func(warehouse.EnterpriseFeatures) error) error
	Watermark(ctx context.Context) (time.Time, error)
	CountEvents(ctx context.Context, c warehouse.EventCount) (int64, error)
	BeginRun(ctx context.Context, r warehouse.Run) (warehouse.Run, error)
	FinishRun(ctx context.Context, r warehouse.Run) error
	Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error)
	WriteOutputs(ctx context.Context, job string, version int, rows []warehouse.OutputRow) error
	ReadOutputs(ctx context.Context, q warehouse.OutputQuery, fn func(warehouse.OutputRow) error) error
	Output(ctx context.Context, job string, version int, key string) (warehouse.OutputRow, error)
	OutputHistory(ctx context.Context, job string, uscc model.USCC, limit int) ([]warehouse.VersionedOutput, error)
	Timeline(ctx context.Context, uscc model.USCC, limit int) ([]model.Event, error)
	Enterprises(ctx context.Context, fn func(model.Enterprise) error) error
	EnterprisesSince(ctx context.Context, t time.Time) ([]model.Enterprise, error)
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	Optimize(ctx context.Context) error
	Activity(ctx context.Context, q warehouse.ActivityQuery, fn func(warehouse.ActivityRow) error) error
	OpenComplaints(ctx context.Context, q warehouse.ActivityQuery) ([]warehouse.OpenComplaintDay, error)
	DeadLetters(ctx context.Context, f warehouse.DeadLetterFilter) ([]warehouse.StoredDeadLetter, error)
}

// Opener returns a fresh, migrated, empty store; the suite closes it.
type Opener func(t *testing.T) Backend

// Run runs every conformance test against the backend.
func Run(t *testing.T, open Opener) {
	t.Run("WriteStoresEachIDOnce", func(t *testing.T) { testWriteStoresEachIDOnce(t, open) })
	t.Run("ConflictIsDeadLettered", func(t *testing.T) { testConflictIsDeadLettered(t, open) })
	t.Run("DeadLettersAreIdempotent", func(t *testing.T) { testDeadLettersAreIdempotent(t, open) })
	t.Run("EnterpriseLatestState", func(t *testing.T) { testEnterpriseLatestState(t, open) })
	t.Run("MigrateIsIdempotent", func(t *testing.T) { testMigrateIsIdempotent(t, open) })
	t.Run("RetryAfterPartialWrite", func(t *testing.T) { testRetryAfterPartialWrite(t, open) })
	t.Run("Pipeline", func(t *testing.T) { RunPipeline(t, open) })
}

// Fixture times are whole seconds: both backends keep second precision.
var t0 = time.Date(2025, 3, 1, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

// USCCs used by the fixtures.
var (
	FirmA = model.CompleteUSCC("91320830MA1AAA01")
	FirmB = model.CompleteUSCC("91320812MA1BBB02")
)

// Event builds a valid item from a type, USCC and data, as ingest would.
func Event(t testing.TB, id string, typ model.EventType, uscc model.USCC, at time.Time, data map[string]any) warehouse.Item {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	e := model.Event{ID: id, Type: typ, USCC: uscc, Source: "320830", OccurredAt: at, Data: raw}
	rec, err := model.USCCPolicy{}.Validate(e)
	if err != nil {
		t.Fatalf("fixture %s is invalid: %v", id, err)
	}
	return warehouse.Item{Record: rec, Origin: model.Origin{Kind: "test", Name: t.Name(), Position: id}, Raw: raw}
}

func write(t *testing.T, s warehouse.Store, b warehouse.Batch) warehouse.WriteResult {
	t.Helper()
	res, err := s.Write(t.Context(), b)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	return res
}

func stats(t *testing.T, s warehouse.Store) warehouse.Stats {
	t.Helper()
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	return st
}

func checkResult(t *testing.T, what string, got, want warehouse.WriteResult) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

func spotCheck(t testing.TB, id string, uscc model.USCC, at time.Time, result string) warehouse.Item {
	data := map[string]any{"check_id": "C-" + id, "product": "电线电缆", "result": result}
	if result == "fail" {
		data["severity"] = "major"
	}
	return Event(t, id, model.EventSpotCheckCompleted, uscc, at, data)
}

func testWriteStoresEachIDOnce(t *testing.T, open Opener) {
	// Given a batch with an exact in-batch resend, when it is written twice,
	// then each id is stored once and every resend counts as a duplicate.
	s := open(t)
	defer s.Close()
	a := spotCheck(t, "320830-1", FirmA, t0, "pass")
	b := spotCheck(t, "320830-2", FirmA, t0.Add(time.Hour), "fail")
	checkResult(t, "first write", write(t, s, warehouse.Batch{Items: []warehouse.Item{a, b, a}}),
		warehouse.WriteResult{Stored: 2, Duplicates: 1})
	checkResult(t, "second write", write(t, s, warehouse.Batch{Items: []warehouse.Item{b, a}}),
		warehouse.WriteResult{Duplicates: 2})
	st := stats(t, s)
	if st.Events.Total != 2 || st.Events.ByType[string(model.EventSpotCheckCompleted)] != 2 || st.Events.BySource["320830"] != 2 {
		t.Errorf("stats: %+v", st.Events)
	}
}

func testConflictIsDeadLettered(t *testing.T, open Opener) {
	// Given a stored event, when a different event reuses its id (in a later
	// batch and within one), then both reuses are dead-lettered as conflicts
	// and the stored event is unchanged.
	s := open(t)
	defer s.Close()
	orig := spotCheck(t, "320830-9", FirmA, t0, "pass")
	write(t, s, warehouse.Batch{Items: []warehouse.Item{orig}})
	changed := spotCheck(t, "320830-9", FirmA, t0, "fail")
	changed.Origin.Position = "later"
	checkResult(t, "conflict with stored", write(t, s, warehouse.Batch{Items: []warehouse.Item{changed}}),
		warehouse.WriteResult{Conflicts: 1, DeadLettered: 1})
	x := spotCheck(t, "320830-10", FirmA, t0, "pass")
	y := spotCheck(t, "320830-10", FirmA, t0, "fail")
	y.Origin.Position = "in-batch"
	checkResult(t, "conflict within batch", write(t, s, warehouse.Batch{Items: []warehouse.Item{x, y}}),
		warehouse.WriteResult{Stored: 1, Conflicts: 1, DeadLettered: 1})
	st := stats(t, s)
	if st.Events.Total != 2 || st.DeadLetters.Total != 2 || st.DeadLetters.ByReason[string(model.DeadLetterConflict)] != 2 {
		t.Errorf("stats: %+v", st)
	}
}

func testDeadLettersAreIdempotent(t *testing.T, open Opener) {
	// Given refused input, when the same bytes arrive again for the same
	// reason, from the same origin or another (a copy of the file), then
	// they are one dead letter; for another reason, a second one.
	s := open(t)
	defer s.Close()
	dl := model.DeadLetter{Origin: model.Origin{Kind: "file", Name: "/x.jsonl", Position: "7"},
		Reason: model.DeadLetterMalformedJSON, Detail: "broken JSON", Raw: []byte(`{"id":`), Received: t0}
	checkResult(t, "first", write(t, s, warehouse.Batch{DeadLetters: []model.DeadLetter{dl, dl}}),
		warehouse.WriteResult{DeadLettered: 1, DeadLetterRepeats: 1})
	checkResult(t, "again", write(t, s, warehouse.Batch{DeadLetters: []model.DeadLetter{dl}}),
		warehouse.WriteResult{DeadLetterRepeats: 1})
	copied := dl
	copied.Origin.Name = "/copy-of-x.jsonl"
	checkResult(t, "a copy of the file", write(t, s, warehouse.Batch{DeadLetters: []model.DeadLetter{copied}}),
		warehouse.WriteResult{DeadLetterRepeats: 1})
	other := dl
	other.Reason, other.Detail = model.DeadLetterInvalidField, "another reason"
	checkResult(t, "another reason", write(t, s, warehouse.Batch{DeadLetters: []model.DeadLetter{other}}),
		warehouse.WriteResult{DeadLettered: 1})
	st := stats(t, s)
	if st.DeadLetters.Total != 2 || st.DeadLetters.ByReason["malformed_json"] != 1 || st.DeadLetters.ByOrigin["file"] != 2 {
		t.Errorf("stats: %+v", st.DeadLetters)
	}
}

func testEnterpriseLatestState(t *testing.T, open Opener) {
	// Given a registration, partial updates (one written before an older one)
	// and a deregistration, then the enterprise shows the latest value of each
	// field by occurred_at, not by arrival.
	s := open(t)
	defer s.Close()
	reg := Event(t, "e1", model.EventEnterpriseRegistered, FirmA, t0, map[string]any{
		"name": "盱眙县龙虾食品有限公司", "region": "320830", "industry": "C1361", "cluster": "xuyi-crayfish", "scale": "small"})
	newer := Event(t, "e3", model.EventEnterpriseUpdated, FirmA, t0.Add(48*time.Hour), map[string]any{"name": "盱眙县龙虾食品股份有限公司"})
	older := Event(t, "e2", model.EventEnterpriseUpdated, FirmA, t0.Add(24*time.Hour), map[string]any{"name": "旧名", "scale": "medium"})
	other := Event(t, "e4", model.EventEnterpriseRegistered, FirmB, t0, map[string]any{
		"name": "淮安特钢有限公司", "region": "320812", "industry": "C3130"})
	write(t, s, warehouse.Batch{Items: []warehouse.Item{reg, newer, other}})
	write(t, s, warehouse.Batch{Items: []warehouse.Item{older}})

	e, err := s.Enterprise(t.Context(), FirmA)
	if err != nil {
		t.Fatal(err)
	}
	want := model.Enterprise{USCC: FirmA, Name: "盱眙县龙虾食品股份有限公司", Region: "320830", Industry: "C1361",
		Cluster: "xuyi-crayfish", Scale: model.ScaleMedium}
	if e.USCC != want.USCC || e.Name != want.Name || e.Region != want.Region || e.Industry != want.Industry ||
		e.Cluster != want.Cluster || e.Scale != want.Scale || e.Deregistered {
		t.Errorf("got %+v, want %+v", e, want)
	}
	if !e.RegisteredAt.Equal(t0) || !e.UpdatedAt.Equal(t0.Add(48*time.Hour)) {
		t.Errorf("registered %v updated %v", e.RegisteredAt, e.UpdatedAt)
	}

	write(t, s, warehouse.Batch{Items: []warehouse.Item{
		Event(t, "e5", model.EventEnterpriseDeregistered, FirmB, t0.Add(time.Hour), map[string]any{"reason": "注销"})}})
	b, err := s.Enterprise(t.Context(), FirmB)
	if err != nil || !b.Deregistered || b.Name != "淮安特钢有限公司" {
		t.Errorf("deregistered firm: %+v, %v", b, err)
	}
	if _, err := s.Enterprise(t.Context(), model.CompleteUSCC("91320826MA1CCC03")); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("unknown firm: want ErrNotFound, got %v", err)
	}
	if st := stats(t, s); st.Enterprises != 2 {
		t.Errorf("enterprises: got %d, want 2", st.Enterprises)
	}
}

func testMigrateIsIdempotent(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	applied, err := s.Migrate(context.WithoutCancel(t.Context()))
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate: applied %v, err %v", applied, err)
	}
}
