package conformance

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// DeadLetterStore is a store whose dead letters can be listed, as
// `qcredit dead-letters` needs.
type DeadLetterStore interface {
	warehouse.Store
	DeadLetters(ctx context.Context, f warehouse.DeadLetterFilter) ([]warehouse.StoredDeadLetter, error)
}

// DeadLetterOpener returns a fresh, migrated, empty store; the suite closes it.
type DeadLetterOpener func(t *testing.T) DeadLetterStore

// RunDeadLetters runs the dead-letter listing cases against the backend.
func RunDeadLetters(t *testing.T, open DeadLetterOpener) {
	t.Run("ListedOncePerInputWithEveryOrigin", func(t *testing.T) { testListedWithEveryOrigin(t, open) })
	t.Run("Filters", func(t *testing.T) { testDeadLetterFilters(t, open) })
}

func list(t *testing.T, s DeadLetterStore, f warehouse.DeadLetterFilter) []warehouse.StoredDeadLetter {
	t.Helper()
	got, err := s.DeadLetters(t.Context(), f)
	if err != nil {
		t.Fatalf("dead letters %+v: %v", f, err)
	}
	return got
}

func testListedWithEveryOrigin(t *testing.T, open DeadLetterOpener) {
	// Given a bad line imported from a file, from a copy of it, and
	// redelivered from Kafka twice, and a conflict, when the dead letters
	// are listed, then the bad line is one dead letter with three origins,
	// oldest first, and the conflict names the stored event's source.
	s := open(t)
	defer s.Close()
	bad := model.DeadLetter{Origin: model.Origin{Kind: "file", Name: "/in/a.jsonl", Position: "3"}, Reason: model.DeadLetterInvalidUSCC,
		Detail: "uscc: check character", Raw: []byte(`{"id":"320826-1","source":"320826"}`), EventID: "320826-1", Source: "320826", Received: t0}
	copied, kafka := bad, bad
	copied.Origin.Name, copied.Received = "/in/copy.jsonl", t0.Add(time.Hour)
	kafka.Origin, kafka.Received = model.Origin{Kind: "kafka", Name: "qcredit.events", Position: "0/42"}, t0.Add(2*time.Hour)
	write(t, s, warehouse.Batch{DeadLetters: []model.DeadLetter{bad}})
	write(t, s, warehouse.Batch{DeadLetters: []model.DeadLetter{copied, kafka}})
	checkResult(t, "redelivery", write(t, s, warehouse.Batch{DeadLetters: []model.DeadLetter{kafka}}),
		warehouse.WriteResult{DeadLetterRepeats: 1})
	stored := spotCheck(t, "320830-7", FirmA, t0, "pass")
	conflict := spotCheck(t, "320830-7", FirmA, t0, "fail")
	write(t, s, warehouse.Batch{Items: []warehouse.Item{stored}})
	write(t, s, warehouse.Batch{Items: []warehouse.Item{conflict}})

	got := list(t, s, warehouse.DeadLetterFilter{})
	if len(got) != 2 {
		t.Fatalf("got %d dead letters, want 2: %+v", len(got), got)
	}
	first := got[0]
	if first.Reason != model.DeadLetterInvalidUSCC || first.Detail != bad.Detail || first.Raw != string(bad.Raw) ||
		first.EventID != "320826-1" || first.Source != "320826" || !first.Received.Equal(t0) {
		t.Errorf("dead letter %+v", first)
	}
	var origins []string
	for _, o := range first.Origins {
		origins = append(origins, o.Origin.String())
	}
	want := []string{"file:/in/a.jsonl:3", "file:/in/copy.jsonl:3", "kafka:qcredit.events:0/42"}
	if !slices.Equal(origins, want) || !first.Origins[2].Received.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("origins %v, want %v (received %v)", origins, want, first.Origins)
	}
	if c := got[1]; c.Reason != model.DeadLetterConflict || c.EventID != "320830-7" || c.Source != "320830" || len(c.Origins) != 1 {
		t.Errorf("conflict %+v", c)
	}
}

func testDeadLetterFilters(t *testing.T, open DeadLetterOpener) {
	// Given dead letters of two reasons, two sources and three days, when
	// listed by reason, source, time or count, then each filter selects
	// exactly its letters, oldest first.
	s := open(t)
	defer s.Close()
	letter := func(n int, reason model.DeadLetterReason, source string, at time.Time) model.DeadLetter {
		return model.DeadLetter{Origin: model.Origin{Kind: "file", Name: "/f.jsonl", Position: string(rune('0' + n))},
			Reason: reason, Detail: "d", Raw: []byte{byte('a' + n)}, Source: source, Received: at}
	}
	write(t, s, warehouse.Batch{DeadLetters: []model.DeadLetter{
		letter(1, model.DeadLetterMissingField, "320830", t0.Add(48*time.Hour)),
		letter(2, model.DeadLetterMalformedJSON, "", t0),
		letter(3, model.DeadLetterMissingField, "320826", t0.Add(24*time.Hour)),
	}})
	raws := func(letters []warehouse.StoredDeadLetter) string {
		var out string
		for _, dl := range letters {
			out += dl.Raw
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    warehouse.DeadLetterFilter
		want string
	}{
		{"all, oldest first", warehouse.DeadLetterFilter{}, "cdb"},
		{"reason", warehouse.DeadLetterFilter{Reason: model.DeadLetterMissingField}, "db"},
		{"source", warehouse.DeadLetterFilter{Source: "320826"}, "d"},
		{"since", warehouse.DeadLetterFilter{Since: t0.Add(24 * time.Hour)}, "db"},
		{"limit", warehouse.DeadLetterFilter{Limit: 2}, "cd"},
		{"all of them", warehouse.DeadLetterFilter{Reason: model.DeadLetterMissingField, Source: "320830", Since: t0}, "b"},
	} {
		if got := raws(list(t, s, tt.f)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, err := s.DeadLetters(t.Context(), warehouse.DeadLetterFilter{Reason: "typo"}); err == nil {
		t.Error("an unknown reason should be refused")
	}
}
