package simulate_test

import (
	"bytes"
	"regexp"
	"slices"
	"testing"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

// idField is the id at the start of a line: ids count in output order.
var idField = regexp.MustCompile(`^\{"id":"[^"]*",`)

func TestStreamFirmsIsGenerateFirmByFirm(t *testing.T) {
	// given a city of 800 firms over 2 years and 6 months, when streamed firm
	// by firm, then it holds exactly Generate's events apart from their ids,
	// the firms come in USCC order, each firm's events together and in time
	// order, every line is a valid event, and the truth is Generate's.
	cfg := simulate.Config{Enterprises: 800, Years: 2, Months: 6, Seed: 5, End: end}
	var want [][]byte
	wantTruth, err := simulate.Generate(cfg, func(l []byte) error {
		want = append(want, idField.ReplaceAll(l, []byte("{")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	var firms []model.USCC
	last := map[model.USCC]string{} // the firm's last occurred_at
	ids := map[string]bool{}
	truth, err := simulate.StreamFirms(cfg, func(l simulate.Line) error {
		item, dl := ingest.Decoder{}.Decode(l.Value, model.Origin{})
		if dl != nil {
			t.Fatalf("%s: %s", dl.Detail, l.Value)
		}
		e := item.Record.Event
		if ids[e.ID] {
			t.Fatalf("id %s written twice", e.ID)
		}
		ids[e.ID] = true
		if len(firms) == 0 || firms[len(firms)-1] != e.USCC {
			firms = append(firms, e.USCC)
		}
		at := e.OccurredAt.UTC().Format("2006-01-02T15:04:05")
		if at < last[e.USCC] {
			t.Fatalf("%s: event at %s after one at %s", e.USCC, at, last[e.USCC])
		}
		last[e.USCC] = at
		got = append(got, idField.ReplaceAll(l.Value, []byte("{")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(firms) || len(slices.Compact(slices.Clone(firms))) != len(firms) || len(firms) != cfg.Enterprises {
		t.Errorf("%d runs of firms, want the %d firms each once in USCC order", len(firms), cfg.Enterprises)
	}
	slices.SortFunc(want, bytes.Compare)
	slices.SortFunc(got, bytes.Compare)
	if len(got) != len(want) {
		t.Fatalf("%d lines, Generate wrote %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("line %s\nnot among Generate's; first difference near %s", got[i], want[i])
		}
	}
	if truth.Enterprises != wantTruth.Enterprises || !slices.Equal(truth.BadEnterprises, wantTruth.BadEnterprises) ||
		!slices.Equal(truth.RisingClusters, wantTruth.RisingClusters) || truth.CleanEnterprisesCount != wantTruth.CleanEnterprisesCount ||
		truth.Lines != len(got) || truth.ValidUniqueEvents != len(got) {
		t.Errorf("truth %+v\nGenerate's %+v", truth, wantTruth)
	}
}

func TestStreamFirmsRefusesBadLines(t *testing.T) {
	cfg := simulate.Config{Enterprises: 10, Years: 1, Seed: 1, End: end, BadRate: 0.01}
	if _, err := simulate.StreamFirms(cfg, func(simulate.Line) error { return nil }); err == nil {
		t.Fatal("a bad rate was accepted")
	}
}

// BenchmarkStreamFirms times planning and encoding a city of 50,000 firms
// over five and a half years firm by firm (about 1.5M lines).
func BenchmarkStreamFirms(b *testing.B) {
	cfg := simulate.Config{Enterprises: 50_000, Years: 5, Months: 6, Seed: 1, End: end}
	lines := 0
	for b.Loop() {
		if _, err := simulate.StreamFirms(cfg, func(simulate.Line) error { lines++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}
