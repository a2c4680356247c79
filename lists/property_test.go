package lists_test

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
)

var seedFlag = flag.Uint64("lists.seed", 0, "seed of the random publication test (0: a new one)")

// world is a handful of firms whose records change from run to run, with
// late reports dated before the previous run.
type world struct {
	r      *rand.Rand
	firms  []lists.FirmRecords
	grades []model.Grade
	n      int // records made, for unique ids
}

func newWorld(r *rand.Rand, firms int) *world {
	w := &world{r: r}
	for i := range firms {
		uscc := model.CompleteUSCC(fmt.Sprintf("913208%010d", 1000+i))
		w.firms = append(w.firms, lists.FirmRecords{USCC: uscc, Name: fmt.Sprintf("淮安%d号公司", i)})
		w.grades = append(w.grades, model.GradeB)
	}
	return w
}

func (w *world) pick(xs ...string) string { return xs[w.r.IntN(len(xs))] }

// change adds a few records to random firms, dated up to 40 days before asOf.
func (w *world) change(asOf time.Time, status []lists.Status) {
	for range w.r.IntN(6) {
		i := w.r.IntN(len(w.firms))
		f := &w.firms[i]
		w.n++
		s := lists.Source{EventID: fmt.Sprintf("320800-%d", w.n), Bureau: w.pick("320800", "320830", "320812"),
			At: asOf.AddDate(0, 0, -w.r.IntN(40)).Add(9 * time.Hour)}
		switch x := w.r.IntN(10); {
		case x < 4:
			f.Penalties = append(f.Penalties, lists.Penalty{Source: s, CaseNo: fmt.Sprintf("罚%d", w.n),
				Violation: w.pick("counterfeit", "substandard", "false_labeling"), Severity: w.pick("general", "heavy")})
		case x == 4 && len(f.Penalties) > 0:
			p := f.Penalties[w.r.IntN(len(f.Penalties))]
			f.PenaltyRevocations = append(f.PenaltyRevocations, lists.PenaltyRevocation{Source: s, CaseNo: p.CaseNo})
		case x == 5 && len(f.Penalties) > 0:
			p := f.Penalties[w.r.IntN(len(f.Penalties))]
			s.At = asOf.Add(9 * time.Hour) // repairs come late in a listing, if at all
			f.Repairs = append(f.Repairs, lists.Repair{Source: s, CaseNo: p.CaseNo})
		case x == 6:
			f.Accidents = append(f.Accidents, lists.Accident{Source: s, AccidentID: fmt.Sprintf("SG%d", w.n), Grade: w.pick("general", "larger")})
		case x == 7 && len(status[i].Entries) > 0:
			e := status[i].Entries[w.r.IntN(len(status[i].Entries))]
			id := fmt.Sprintf("SB%d", w.n)
			f.Objections = append(f.Objections, lists.Objection{Source: s, ObjectionID: id, Key: e.Key})
			d := s
			d.EventID += "-d"
			f.ObjectionDecisions = append(f.ObjectionDecisions, lists.ObjectionDecision{Source: d, ObjectionID: id,
				Outcome: lists.Outcome(w.pick(string(lists.OutcomeUpheld), string(lists.OutcomeRejected)))})
		case x == 8:
			f.Name = fmt.Sprintf("淮安%d号新公司", w.n)
		default:
			w.grades[i] = model.Grades[w.r.IntN(len(model.Grades))]
		}
	}
}

func TestSnapshotPlusChangesIsTheNextSnapshot(t *testing.T) {
	// given random runs over changing records (late reports, revocations, repairs, objections, regrading),
	// when each run publishes both lists, then for every pair of versions V ≤ W, applying changes(V→W) to
	// snapshot V gives snapshot W, byte for byte in canonical NDJSON, with W's manifest; and re-running a
	// run publishes nothing
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -lists.seed=%d)", seed, seed)
	r := defaultRules(t)
	w := newWorld(rand.New(rand.NewPCG(seed, 1)), 12)
	histories := map[model.List]*[]lists.Version{model.ListDishonest: {}, model.ListFocus: {}}
	status := make([]lists.Status, len(w.firms))
	asOf := time.Date(2023, 1, 2, 0, 0, 0, 0, model.Shanghai)
	for run := range 60 {
		asOf = asOf.AddDate(0, 0, 1+w.r.IntN(60))
		w.change(asOf, status)
		byList := w.evaluate(t, r, asOf, status, histories[model.ListFocus])
		for _, list := range []model.List{model.ListDishonest, model.ListFocus} {
			h := histories[list]
			publishRun(t, r, h, list, byList[list], asOf, asOf.Add(26*time.Hour))
			if n := len(*h); publishRun(t, r, h, list, byList[list], asOf, asOf.Add(27*time.Hour)) || len(*h) != n {
				t.Fatalf("run %d: publishing the same %s entries again made a new version", run, list)
			}
		}
	}
	for list, h := range histories {
		ops := map[model.ListOp]int{}
		for _, v := range *h {
			for _, c := range v.Changes {
				ops[c.Op]++
			}
		}
		t.Logf("%s: %d versions, %d entries in the last, changes %v", list, len(*h), (*h)[len(*h)-1].Manifest.Count, ops)
		if len(*h) < 10 {
			t.Errorf("%s: only %d versions: the test exercised little", list, len(*h))
		}
		checkEachStep(t, *h)
	}
}

// evaluate runs the dishonest and focus lists over the world as of the day.
func (w *world) evaluate(t *testing.T, r *lists.Rules, asOf time.Time, status []lists.Status, focusHistory *[]lists.Version) map[model.List][]model.ListEntry {
	t.Helper()
	out := map[model.List][]model.ListEntry{}
	var graded []lists.GradedFirm
	for i, f := range w.firms {
		st, err := r.Evaluate(f, asOf)
		if err != nil {
			t.Fatal(err)
		}
		status[i] = st
		out[model.ListDishonest] = append(out[model.ListDishonest], st.Entries...)
		g := w.grades[i]
		if st.Listed() {
			g = model.GradeD // what the score job will do with the same status
		}
		graded = append(graded, lists.GradedFirm{USCC: f.USCC, Name: f.Name, Grade: g})
	}
	var current []model.ListEntry
	if n := len(*focusHistory); n > 0 {
		current = (*focusHistory)[n-1].Entries
	}
	focus, err := r.FocusEntries(lists.FocusInput{AsOf: asOf, Graded: graded, Current: current})
	if err != nil {
		t.Fatal(err)
	}
	out[model.ListFocus] = focus
	return out
}

func publishRun(t *testing.T, r *lists.Rules, h *[]lists.Version, list model.List, entries []model.ListEntry, asOf, at time.Time) bool {
	t.Helper()
	var cur *lists.Version
	if len(*h) > 0 {
		cur = &(*h)[len(*h)-1]
	}
	v, changed, err := r.Publish(lists.PublishInput{List: list, Current: cur, Entries: entries, AsOf: asOf, PublishedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if changed {
		*h = append(*h, v)
	}
	return changed
}

// checkEachStep checks every version against the one before it: applying
// its changes to the previous snapshot gives its snapshot, byte for byte in
// canonical NDJSON, with its manifest. (Changes between any two retained
// versions are the read model's; serving tests them.)
func checkEachStep(t *testing.T, h []lists.Version) {
	t.Helper()
	var prev []model.ListEntry
	for i := range h {
		v := &h[i]
		if v.Number != int64(i+1) {
			t.Fatalf("version %d at position %d", v.Number, i)
		}
		for _, e := range v.Entries {
			if e.State != model.ListStateListed || !e.ListedOn(v.AsOf) {
				t.Errorf("version %d (as of %s) publishes %s in state %s, listed %s–%s", v.Number, v.AsOf, e.Key, e.State, e.ListedAt, e.ExpiresAt)
			}
		}
		got, err := lists.Apply(prev, v.Changes)
		if err != nil {
			t.Fatalf("apply the changes of %d: %v", v.Number, err)
		}
		if m := model.NewListManifest(got); !bytes.Equal(canonical(got), canonical(v.Entries)) || m != v.Manifest {
			t.Fatalf("snapshot %d + its changes ≠ snapshot %d: manifest %+v, want %+v", v.Number-1, v.Number, m, v.Manifest)
		}
		for _, c := range v.Changes {
			if c.Op == model.ListOpRemove && c.Entry.RemovedReason == "" {
				t.Errorf("version %d: remove of %s without a reason", v.Number, c.Key)
			}
		}
		prev = v.Entries
	}
}

// canonical is the canonical snapshot of entries sorted by key.
func canonical(entries []model.ListEntry) []byte {
	var b []byte
	for i := range entries {
		b = entries[i].AppendCanonical(b)
	}
	return b
}

func TestEvaluationIgnoresInputOrder(t *testing.T) {
	// given the same firms with their records in two orders, when evaluated, then the entries and reviews agree
	r := defaultRules(t)
	rnd := rand.New(rand.NewPCG(7, 7))
	w := newWorld(rnd, 8)
	status := make([]lists.Status, len(w.firms))
	asOf := time.Date(2025, 1, 6, 0, 0, 0, 0, model.Shanghai)
	for range 20 {
		asOf = asOf.AddDate(0, 0, 20)
		w.change(asOf, status)
		w.evaluate(t, r, asOf, status, &[]lists.Version{})
	}
	digest := func(firms []lists.FirmRecords) string {
		var lines []string
		for _, f := range firms {
			st, err := r.Evaluate(f, asOf)
			if err != nil {
				t.Fatal(err)
			}
			for i := range st.Entries {
				lines = append(lines, string(st.Entries[i].AppendCanonical(nil)))
			}
			for i := range st.Reviews {
				line, err := lists.AppendReview(nil, &st.Reviews[i])
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, string(line))
			}
		}
		slices.Sort(lines)
		return strings.Join(lines, "")
	}
	first := digest(w.firms)
	shuffled := slices.Clone(w.firms)
	rnd.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for i := range shuffled {
		f := &shuffled[i]
		f.Penalties = slices.Clone(f.Penalties)
		slices.Reverse(f.Penalties)
		f.PenaltyRevocations = slices.Clone(f.PenaltyRevocations)
		slices.Reverse(f.PenaltyRevocations)
		f.Repairs = slices.Clone(f.Repairs)
		slices.Reverse(f.Repairs)
	}
	if second := digest(shuffled); second != first {
		t.Errorf("after reordering\n%s\nwant\n%s", second, first)
	}
}

func TestRecordsBeforeTheHorizonDoNotChangeTheListing(t *testing.T) {
	// given firms with eight years of changing records, when evaluated with only the records since
	// Rules.Horizon, then the listed and pending entries are the same as with every record
	r := defaultRules(t)
	w := newWorld(rand.New(rand.NewPCG(11, 11)), 12)
	status := make([]lists.Status, len(w.firms))
	asOf := time.Date(2019, 1, 7, 0, 0, 0, 0, model.Shanghai)
	for range 100 {
		asOf = asOf.AddDate(0, 0, 30)
		w.change(asOf, status)
		w.evaluate(t, r, asOf, status, &[]lists.Version{})
	}
	horizon := r.Horizon(asOf)
	since := func(s lists.Source) bool { return !s.At.Before(horizon) }
	current := func(st lists.Status) []string {
		var keys []string
		for _, e := range st.Entries {
			if e.State == model.ListStateListed || e.State == model.ListStatePending {
				keys = append(keys, string(e.AppendCanonical(nil)))
			}
		}
		return keys
	}
	dropped, live := 0, 0
	for _, f := range w.firms {
		all, err := r.Evaluate(f, asOf)
		if err != nil {
			t.Fatal(err)
		}
		recent := f
		recent.Penalties = slices.DeleteFunc(slices.Clone(f.Penalties), func(p lists.Penalty) bool { return !since(p.Source) })
		recent.PenaltyRevocations = slices.DeleteFunc(slices.Clone(f.PenaltyRevocations), func(p lists.PenaltyRevocation) bool { return !since(p.Source) })
		recent.Accidents = slices.DeleteFunc(slices.Clone(f.Accidents), func(a lists.Accident) bool { return !since(a.Source) })
		recent.Repairs = slices.DeleteFunc(slices.Clone(f.Repairs), func(r lists.Repair) bool { return !since(r.Source) })
		dropped += len(f.Penalties) - len(recent.Penalties)
		part, err := r.Evaluate(recent, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := current(part), current(all); !slices.Equal(got, want) {
			t.Errorf("%s: since %s the live entries are\n%v\nwith every record\n%v", f.USCC, horizon.Format(time.DateOnly), got, want)
		}
		live += len(current(all))
	}
	if dropped == 0 || live == 0 {
		t.Fatalf("%d penalties before the horizon, %d live entries: the test exercised nothing", dropped, live)
	}
}
