package warehouse

import (
	"slices"
	"testing"

	"github.com/qcredit/qcredit/model"
)

func TestPrepareKeepsTheFirstOfEachID(t *testing.T) {
	item := func(id string, hash uint64) Item {
		var it Item
		it.Record.ID, it.Record.Hash = id, hash
		it.Raw = []byte(id)
		return it
	}
	tests := []struct {
		name        string
		items       []Item
		want        []string
		dups, confl int
	}{
		{"no repeats", []Item{item("a", 1), item("b", 2), item("c", 3)}, []string{"a", "b", "c"}, 0, 0},
		{"repeats", []Item{item("a", 1), item("b", 2), item("a", 1), item("c", 3), item("b", 9), item("d", 4)},
			[]string{"a", "b", "c", "d"}, 1, 1},
		{"repeat first", []Item{item("a", 1), item("a", 2), item("a", 1)}, []string{"a"}, 1, 1},
		{"empty", nil, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ids(tt.items)
			p := Prepare(Batch{Items: tt.items})
			got := ids(p.Items)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("items %v, want %v", got, tt.want)
			}
			if p.Duplicates != tt.dups || p.Conflicts != tt.confl || len(p.DeadLetters) != tt.confl {
				t.Errorf("duplicates %d, conflicts %d, dead letters %d; want %d, %d, %d",
					p.Duplicates, p.Conflicts, len(p.DeadLetters), tt.dups, tt.confl, tt.confl)
			}
			for _, dl := range p.DeadLetters {
				if dl.Reason != model.DeadLetterConflict || dl.Key == "" {
					t.Errorf("dead letter %+v", dl)
				}
			}
			if !slices.Equal(ids(tt.items), before) {
				t.Error("Prepare changed the caller's batch")
			}
		})
	}
}

func ids(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Record.ID)
	}
	return out
}
