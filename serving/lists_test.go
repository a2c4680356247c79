package serving

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
)

var seedFlag = flag.Uint64("serving.seed", 0, "seed of the random list history test (0: a new one)")

// randomVersions publishes a random list run after run: entries are listed,
// renamed, removed (with a reason) and listed again.
func randomVersions(t *testing.T, r *rand.Rand, runs int) []lists.Version {
	t.Helper()
	rules, err := lists.Default()
	if err != nil {
		t.Fatal(err)
	}
	var out []lists.Version
	state := map[string]model.ListEntry{}
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, model.Shanghai)
	for run := range runs {
		day = day.AddDate(0, 0, 1+r.IntN(5))
		for range r.IntN(8) {
			k := r.IntN(30)
			uscc := model.CompleteUSCC(fmt.Sprintf("913208%010d", k%12))
			key := lists.DishonestKey(uscc, "serious.heavy_penalty", fmt.Sprintf("罚%d", k))
			e, ok := state[key]
			switch {
			case !ok || e.State != model.ListStateListed:
				e = model.ListEntry{Key: key, USCC: uscc, List: model.ListDishonest, Rule: "serious.heavy_penalty", State: model.ListStateListed,
					Name: fmt.Sprintf("淮安%d号公司", k), Reason: "原因 \"引号\" <b>", ListedAt: day.Format(time.DateOnly),
					ExpiresAt: day.AddDate(3, 0, 0).Format(time.DateOnly), Measures: []string{"no_honours"}, Events: []string{fmt.Sprintf("e%d", run)}}
			case r.IntN(2) == 0:
				e.Name = fmt.Sprintf("淮安%d号新公司%d", k, run)
			default:
				e.State, e.RemovedAt, e.RemovedReason, e.RemovedBy = model.ListStateRemoved, day.Format(time.DateOnly), model.RemovalRepaired, "淮安市市场监督管理局"
			}
			state[key] = e
		}
		var entries []model.ListEntry
		for _, e := range state {
			entries = append(entries, e)
		}
		var cur *lists.Version
		if len(out) > 0 {
			cur = &out[len(out)-1]
		}
		v, changed, err := rules.Publish(lists.PublishInput{List: model.ListDishonest, Current: cur, Entries: entries, AsOf: day,
			PublishedAt: day.Add(26 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if changed {
			out = append(out, v)
		}
	}
	return out
}

// historyFrom builds the history served when retention starts at version
// base (1-based): its snapshot, then the later versions' changes.
func historyFrom(t *testing.T, vs []lists.Version, base int) *ListHistory {
	t.Helper()
	b := newHistoryBuilder(model.ListDishonest)
	b.base(vs[base-1].ListVersion, vs[base-1].Entries)
	for _, v := range vs[base:] {
		if err := b.apply(v.ListVersion, v.Changes); err != nil {
			t.Fatal(err)
		}
	}
	h, err := b.finish()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func canonical(entries []model.ListEntry) []byte {
	var b []byte
	for i := range entries {
		b = entries[i].AppendCanonical(b)
	}
	return b
}

func TestChangesBetweenAnyTwoRetainedVersions(t *testing.T) {
	// given random publications (listings, renames, removals, listings again) served from version 1 and from
	// a later base, when a partner holding any retained version V asks for the changes to any later W, then
	// applying them to snapshot V gives snapshot W byte for byte with W's manifest, each version's own changes
	// are the ones it published, and versions before the base are not retained
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -serving.seed=%d)", seed, seed)
	vs := randomVersions(t, rand.New(rand.NewPCG(seed, 3)), 80)
	if len(vs) < 20 {
		t.Fatalf("only %d versions: the test exercised little", len(vs))
	}
	for _, base := range []int{1, len(vs) / 2} {
		h := historyFrom(t, vs, base)
		if h.Earliest() != int64(base) || h.Latest().Number != int64(len(vs)) {
			t.Fatalf("base %d: history %d–%d", base, h.Earliest(), h.Latest().Number)
		}
		snap := func(n int64) []model.ListEntry {
			seq, err := h.Snapshot(n)
			if err != nil {
				t.Fatal(err)
			}
			return slices.Collect(seq)
		}
		for i := base; i <= len(vs); i++ {
			v := vs[i-1]
			if got := snap(v.Number); !bytes.Equal(canonical(got), canonical(v.Entries)) {
				t.Fatalf("base %d: snapshot %d differs from the published one", base, v.Number)
			}
			if own, err := h.VersionChanges(v.Number); (err != nil) != (i == base && base > 1) ||
				(err == nil && !bytes.Equal(changeLines(own), changeLines(v.Changes))) {
				t.Errorf("base %d: own changes of %d: %v", base, v.Number, err)
			}
			var want ChangeCounts
			for _, c := range v.Changes {
				switch c.Op {
				case model.ListOpAdd:
					want.Add++
				case model.ListOpRemove:
					want.Remove++
				case model.ListOpModify:
					want.Modify++
				}
			}
			if got, err := h.VersionChangeCounts(v.Number); (err != nil) != (i == base && base > 1) || (err == nil && got != want) {
				t.Errorf("base %d: change counts of %d: %+v (%v), want %+v", base, v.Number, got, err, want)
			}
			for j := i; j <= len(vs); j++ {
				w := vs[j-1]
				changes, err := h.Changes(v.Number, w.Number)
				if err != nil {
					t.Fatal(err)
				}
				got, err := lists.Apply(snap(v.Number), changes)
				if err != nil {
					t.Fatalf("base %d: apply changes(%d→%d): %v", base, v.Number, w.Number, err)
				}
				if m := model.NewListManifest(got); !bytes.Equal(canonical(got), canonical(w.Entries)) || m != w.Manifest {
					t.Fatalf("base %d: snapshot %d + changes(%d→%d) ≠ snapshot %d", base, v.Number, v.Number, w.Number, w.Number)
				}
				for _, c := range changes {
					if c.Op == model.ListOpRemove && c.Entry.RemovedReason == "" {
						t.Errorf("changes(%d→%d): remove of %s carries no removal", v.Number, w.Number, c.Key)
					}
				}
			}
		}
		if base > 1 {
			if _, err := h.Changes(int64(base-1), h.Latest().Number); !errors.Is(err, ErrNotRetained) {
				t.Errorf("changes since %d before the base %d: %v, want ErrNotRetained", base-1, base, err)
			}
		}
	}
}

func changeLines(cs []model.ListChange) []byte {
	var b []byte
	for i := range cs {
		b = cs[i].AppendCanonical(b)
	}
	return b
}

func TestChangesSinceTheLatestAreEmpty(t *testing.T) {
	// given a history, when a partner asks for the changes since the latest version, then it gets an empty
	// list (not nil, not an error), and since a version never published, ErrNotRetained
	vs := randomVersions(t, rand.New(rand.NewPCG(1, 1)), 10)
	h := historyFrom(t, vs, 1)
	latest := h.Latest().Number
	changes, err := h.Changes(latest, latest)
	if err != nil || changes == nil || len(changes) != 0 {
		t.Errorf("changes since the latest: %v %v", changes, err)
	}
	if _, err := h.Changes(latest+1, latest+1); !errors.Is(err, ErrNotRetained) {
		t.Errorf("changes since a future version: %v", err)
	}
}

func TestListedAsPublishedOnADay(t *testing.T) {
	// given firm A listed by version 2 and removed by version 4, firm B listed by version 3, and version 5
	// published at 00:30 +08:00 (still the previous day in UTC), when a partner asks about a day, then the
	// answer is the version in force at the end of that day in +08:00 and the firm's entries in it, by their
	// own dates
	rules, err := lists.Default()
	if err != nil {
		t.Fatal(err)
	}
	a := model.CompleteUSCC("9132083012345678")
	b := model.CompleteUSCC("9132083087654321")
	entry := func(u model.USCC, listed string) model.ListEntry {
		return model.ListEntry{Key: lists.DishonestKey(u, "serious.heavy_penalty", "c-"+string(u)), USCC: u, List: model.ListDishonest,
			State: model.ListStateListed, ListedAt: listed, ExpiresAt: "2028-03-11", Authority: "盱眙县市场监督管理局", Measures: []string{}}
	}
	removedA := entry(a, "2025-03-11")
	removedA.State, removedA.RemovedAt, removedA.RemovedReason = model.ListStateRemoved, "2025-05-06", model.RemovalWithdrawn
	runs := []struct {
		asOf      string
		published time.Time
		entries   []model.ListEntry
	}{
		{"2025-03-10", time.Date(2025, 3, 11, 2, 0, 0, 0, model.Shanghai), nil},
		{"2025-03-11", time.Date(2025, 3, 12, 2, 0, 0, 0, model.Shanghai), []model.ListEntry{entry(a, "2025-03-11")}},
		{"2025-04-10", time.Date(2025, 4, 11, 2, 0, 0, 0, model.Shanghai), []model.ListEntry{entry(a, "2025-03-11"), entry(b, "2025-04-10")}},
		{"2025-05-06", time.Date(2025, 5, 7, 2, 0, 0, 0, model.Shanghai), []model.ListEntry{removedA, entry(b, "2025-04-10")}},
		{"2025-05-07", time.Date(2025, 5, 8, 0, 30, 0, 0, model.Shanghai), []model.ListEntry{removedA, entry(b, "2025-04-08")}},
	}
	var vs []lists.Version
	for _, run := range runs {
		var cur *lists.Version
		if len(vs) > 0 {
			cur = &vs[len(vs)-1]
		}
		asOf, _ := time.ParseInLocation(time.DateOnly, run.asOf, model.Shanghai)
		v, changed, err := rules.Publish(lists.PublishInput{List: model.ListDishonest, Current: cur, Entries: run.entries, AsOf: asOf, PublishedAt: run.published})
		if err != nil || !changed {
			t.Fatalf("publish as of %s: %v %v", run.asOf, changed, err)
		}
		vs = append(vs, v)
	}
	h := historyFrom(t, vs, 1)
	for _, tt := range []struct {
		day     string
		uscc    model.USCC
		version int64
		listed  bool
	}{
		{"2025-03-10", a, 0, false}, // nothing published yet
		{"2025-03-11", a, 1, false}, // the version in force was published before the listing
		{"2025-03-12", a, 2, true},
		{"2025-05-06", a, 3, true}, // withdrawn that day, but published the next morning
		{"2025-05-07", a, 4, false},
		{"2025-05-07", b, 4, true},
		{"2025-05-08", b, 5, true},
	} {
		day, _ := time.ParseInLocation(time.DateOnly, tt.day, model.Shanghai)
		v, ok, err := h.InForceOn(day.Add(13 * time.Hour))
		if err != nil || ok != (tt.version > 0) || v.Number != tt.version {
			t.Errorf("%s: version %d (%v, %v), want %d", tt.day, v.Number, ok, err, tt.version)
			continue
		}
		listed := false
		for _, e := range h.EntriesOf(tt.uscc, v.Number) {
			listed = listed || e.ListedOn(tt.day)
		}
		if listed != tt.listed {
			t.Errorf("%s on %s: listed %v, want %v", tt.uscc, tt.day, listed, tt.listed)
		}
	}
	later := historyFrom(t, vs, 3)
	if _, _, err := later.InForceOn(time.Date(2025, 3, 12, 12, 0, 0, 0, model.Shanghai)); !errors.Is(err, ErrNotRetained) {
		t.Errorf("a day before the retained history: %v, want ErrNotRetained", err)
	}
}
