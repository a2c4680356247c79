package pipelines_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/warehouse"
)

// listOutputs are a lists run's outputs by kind.
type listOutputs struct {
	entries  map[model.List][]model.ListEntry
	changes  map[model.List][]model.ListChange
	versions map[model.List]model.ListVersion
	reviews  int
}

func readListOutputs(t *testing.T, s backend, run warehouse.Run) listOutputs {
	t.Helper()
	out := listOutputs{entries: map[model.List][]model.ListEntry{}, changes: map[model.List][]model.ListChange{},
		versions: map[model.List]model.ListVersion{}}
	err := s.ReadOutputs(t.Context(), warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true}, func(o warehouse.OutputRow) error {
		kind, rest, _ := strings.Cut(o.Key, "/")
		list, _, _ := strings.Cut(rest, "/")
		switch kind + "/" {
		case model.ListKeyEntry:
			var e model.ListEntry
			if err := json.Unmarshal(o.Payload, &e); err != nil || o.Label != string(e.State) || o.USCC != string(e.USCC) {
				return fmt.Errorf("entry %s (%s): %v", o.Key, o.Label, err)
			}
			out.entries[model.List(list)] = append(out.entries[model.List(list)], e)
		case model.ListKeyChange:
			var c model.ListChange
			if err := json.Unmarshal(o.Payload, &c); err != nil {
				return fmt.Errorf("change %s: %w", o.Key, err)
			}
			out.changes[model.List(list)] = append(out.changes[model.List(list)], c)
		case model.ListKeyVersion:
			var v model.ListVersion
			if err := json.Unmarshal(o.Payload, &v); err != nil || v.Number != o.Value {
				return fmt.Errorf("version %s: %v", o.Key, err)
			}
			out.versions[model.List(list)] = v
		case model.ListKeyReview:
			out.reviews++
		default:
			return fmt.Errorf("unknown output %s", o.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (o listOutputs) listed(l model.List) []model.ListEntry {
	return slices.DeleteFunc(slices.Clone(o.entries[l]), func(e model.ListEntry) bool { return e.State != model.ListStateListed })
}

func TestListsOnSimulatedCity(t *testing.T) {
	// Given a simulated city, when score and then lists run as of its last day, then each list publishes version 1
	// with a manifest of its listed entries, every listed firm grades D with the listing as its reasons, and the
	// focus list holds exactly the firms graded C or D
	s, _ := simulated(t, 3000)
	r := newRunner(t, s, defaultScorecard(t))
	scoreRun, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobLists, AsOf: simAsOf})
	if err != nil {
		t.Fatal(err)
	}
	out := readListOutputs(t, s, first)
	for _, l := range model.Lists {
		v := out.versions[l]
		if v.Number != 1 || first.Counts[model.ListCountVersion(l)] != 1 || first.Counts[model.ListCountPublished(l)] != 1 ||
			v.Manifest != model.NewListManifest(out.listed(l)) || len(out.changes[l]) != len(out.listed(l)) {
			t.Errorf("%s: version %+v, counts %v, %d changes for %d listed", l, v, first.Counts, len(out.changes[l]), len(out.listed(l)))
		}
	}
	grades := map[string]storedScore{}
	for _, sc := range runScores(t, s, scoreRun) {
		grades[sc.uscc] = sc
	}
	listedFirms := map[model.USCC][]string{}
	for _, e := range out.listed(model.ListDishonest) {
		listedFirms[e.USCC] = append(listedFirms[e.USCC], e.Rule)
	}
	if len(listedFirms) == 0 {
		t.Fatal("no firm of the simulated city is listed: the test exercised nothing")
	}
	for uscc, sc := range grades {
		var listingRules []string
		for _, rs := range sc.reasons {
			if strings.HasPrefix(rs.Rule, "serious.") {
				listingRules = append(listingRules, rs.Rule)
			}
		}
		rules := listedFirms[model.USCC(uscc)]
		slices.Sort(rules)
		slices.Sort(listingRules)
		if !slices.Equal(rules, listingRules) || (len(rules) > 0 && sc.grade != "D") {
			t.Errorf("%s: listed for %v, graded %s with listing reasons %v", uscc, rules, sc.grade, listingRules)
		}
	}
	focus := out.listed(model.ListFocus)
	if n := first.Counts["focus_listed"]; int64(len(focus)) != n || n != scoreRun.Counts["grade_C"]+scoreRun.Counts["grade_D"] {
		t.Errorf("focus list of %d (count %d), score run graded %d C and %d D", len(focus), n, scoreRun.Counts["grade_C"], scoreRun.Counts["grade_D"])
	}
	t.Logf("lists-1 counts %v", first.Counts)

	// When lists runs again with no new event, then it publishes nothing and has the same digest; so does a
	// re-run --like the first
	again, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobLists, AsOf: simAsOf})
	if err != nil {
		t.Fatal(err)
	}
	like, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobLists, Like: first.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []warehouse.Run{again, like} {
		o := readListOutputs(t, s, run)
		if run.Digest != first.Digest || len(o.versions) != 0 || len(o.changes) != 0 ||
			run.Counts[model.ListCountPublished(model.ListDishonest)] != 0 || run.Counts[model.ListCountVersion(model.ListDishonest)] != 1 {
			t.Errorf("%s: digest %s (first %s), %d versions, counts %v", run.ID, run.Digest, first.Digest, len(o.versions), run.Counts)
		}
	}

	// When a late heavy penalty of an unlisted firm arrives, dated after the notice period would have ended,
	// and score and lists run again, then the dishonest list's version 2 adds exactly its entry (one add),
	// and the focus list's change for it says the firm is now D
	var clean string
	for uscc, sc := range grades {
		if sc.grade == "A" && (clean == "" || uscc < clean) {
			clean = uscc
		}
	}
	late := fmt.Sprintf(`{"id":"320830-late-pen","type":"penalty.decided","uscc":"%s","source":"320830","occurred_at":"2026-06-01T10:00:00+08:00",`+
		`"data":{"case_no":"盱市监罚2026-77","violation":"substandard","severity":"heavy"}}`+"\n", clean)
	if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "late.jsonl", strings.NewReader(late)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf}); err != nil {
		t.Fatal(err)
	}
	third, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobLists, AsOf: simAsOf})
	if err != nil {
		t.Fatal(err)
	}
	o := readListOutputs(t, s, third)
	d, f := o.changes[model.ListDishonest], o.changes[model.ListFocus]
	if len(d) != 1 || d[0].Op != model.ListOpAdd || string(d[0].USCC) != clean || o.versions[model.ListDishonest].Number != 2 ||
		!strings.Contains(d[0].Entry.Reason, "盱市监罚2026-77") {
		t.Errorf("dishonest changes of %s: %+v", third.ID, d)
	}
	if len(f) != 1 || f[0].Op != model.ListOpAdd || string(f[0].USCC) != clean || !strings.Contains(f[0].Entry.Reason, "D级") {
		t.Errorf("focus changes of %s: %+v", third.ID, f)
	}
}

func TestABackfillPublishesNothing(t *testing.T) {
	// Given lists published as of the city's last day, when lists runs as of an earlier day (a backfill), then
	// it succeeds with its entries but publishes nothing: partners never see the list step back in time
	s, _ := simulated(t, 300)
	r := newRunner(t, s, defaultScorecard(t))
	for _, q := range []pipelines.RunRequest{{Job: pipelines.JobScore, AsOf: simAsOf}, {Job: pipelines.JobLists, AsOf: simAsOf},
		{Job: pipelines.JobScore, AsOf: "2026-01-31"}} {
		if _, err := r.Run(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	back, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobLists, AsOf: "2026-01-31"})
	if err != nil {
		t.Fatal(err)
	}
	o := readListOutputs(t, s, back)
	if len(o.versions) != 0 || len(o.changes) != 0 || back.Counts[model.ListCountVersion(model.ListFocus)] != 1 || len(o.entries[model.ListFocus]) == 0 {
		t.Errorf("backfill %s: %d versions, %d lists of changes, counts %v", back.ID, len(o.versions), len(o.changes), back.Counts)
	}
}

func TestListsNeedAScoreRun(t *testing.T) {
	// Given a warehouse never scored, when lists runs, then it fails saying to run score first
	s, _ := simulated(t, 50)
	_, err := newRunner(t, s, defaultScorecard(t)).Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobLists, AsOf: simAsOf})
	if err == nil || !strings.Contains(err.Error(), "pipeline run score") {
		t.Errorf("err = %v, want one that says to run score first", err)
	}
}

func TestListsAreIdenticalOnBothBackends(t *testing.T) {
	// Given the same simulated city in DuckDB and ClickHouse, when score and lists run as of the same day, then
	// the lists runs have the same digest and counts, and publish the same versions with the same changes
	lines := simulatedLines(t, 1500, 5)
	type result struct {
		run warehouse.Run
		out listOutputs
	}
	got := map[string]result{}
	for name, s := range bothBackends(t) {
		if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(lines)); err != nil {
			t.Fatal(err)
		}
		r := newRunner(t, s, defaultScorecard(t))
		if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		run, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobLists, AsOf: simAsOf})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = result{run, readListOutputs(t, s, run)}
	}
	d, c := got["duckdb"], got["clickhouse"]
	if d.run.Digest != c.run.Digest || d.run.Counts["dishonest_listed"] == 0 {
		t.Errorf("DuckDB run %+v\nClickHouse run %+v", d.run, c.run)
	}
	for k, v := range d.run.Counts {
		if c.run.Counts[k] != v {
			t.Errorf("count %s: DuckDB %d, ClickHouse %d", k, v, c.run.Counts[k])
		}
	}
	for _, l := range model.Lists {
		dv, cv := d.out.versions[l], c.out.versions[l]
		if dv.Manifest != cv.Manifest || dv.Number != 1 || len(d.out.changes[l]) != len(c.out.changes[l]) {
			t.Errorf("%s: DuckDB version %+v, ClickHouse %+v", l, dv, cv)
		}
		for i := range d.out.changes[l] {
			a, b := d.out.changes[l][i], c.out.changes[l][i]
			if !bytes.Equal(a.AppendCanonical(nil), b.AppendCanonical(nil)) {
				t.Errorf("%s change %d: DuckDB %+v, ClickHouse %+v", l, i, a, b)
				break
			}
		}
	}
}

// storesMidRun is a job that stores events once its own run is done: reports that arrive while its slot runs,
// after its watermark was taken and before the jobs that follow it start.
type storesMidRun struct {
	pipelines.Job
	s     backend
	lines *string
}

func (j storesMidRun) Run(ctx context.Context, in pipelines.RunInput) (pipelines.Output, error) {
	out, err := j.Job.Run(ctx, in)
	if err == nil && *j.lines != "" {
		_, err = ingest.Importer{Store: j.s}.Import(ctx, "mid-slot.jsonl", strings.NewReader(*j.lines))
		*j.lines = ""
	}
	return out, err
}

func TestASlotIsOneCutOfTheWarehouse(t *testing.T) {
	lines := simulatedLines(t, 1500, 5)
	for name, s := range bothBackends(t) {
		t.Run(name, func(t *testing.T) {
			// Given a city with a listed firm, when the revocation of its penalty is stored while the nightly slot's
			// score run is going, then the lists run that follows it in the slot reads up to the score run's
			// watermark: the firm is still listed, as its grade D says; so does a lists run by hand; once score
			// runs again, lists by hand withdraws the entry
			if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(lines)); err != nil {
				t.Fatal(err)
			}
			rules := defaultRules(t)
			score, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: s, Listing: s, Scorecard: defaultScorecard(t), Rules: rules, Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			var midRun string
			r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{storesMidRun{score, s, &midRun},
				pipelines.NewListsJob(s, rules, quiet)}})
			if err != nil {
				t.Fatal(err)
			}
			sched, err := pipelines.NewScheduler(r, quiet, pipelines.SchedulerOptions{Disabled: true})
			if err != nil {
				t.Fatal(err)
			}
			run := func(q pipelines.RunRequest) warehouse.Run {
				t.Helper()
				run, err := r.Run(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				return run
			}
			run(pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
			first := readListOutputs(t, s, run(pipelines.RunRequest{Job: pipelines.JobLists, AsOf: simAsOf})).listed(model.ListDishonest)
			if len(first) == 0 {
				t.Fatal("no firm is listed: the test exercises nothing")
			}
			entry := first[0]
			caseNo := strings.SplitN(entry.Key, ":", 3)[2]
			midRun = fmt.Sprintf(`{"id":"320800-mid-slot-revoke","type":"penalty.revoked","uscc":"%s","source":"320800",`+
				`"occurred_at":"2026-06-30T09:00:00+08:00","data":{"case_no":"%s"}}`+"\n", entry.USCC, caseNo)

			if !sched.RunSlot(t.Context(), pipelines.JobScore, time.Date(2026, 7, 1, 2, 0, 0, 0, pipelines.Shanghai)) {
				t.Fatal("the slot did not run")
			}
			if midRun != "" {
				t.Fatal("the revocation was not stored during the slot")
			}
			runs, err := r.Runs(t.Context(), warehouse.RunFilter{Status: warehouse.RunSucceeded})
			if err != nil {
				t.Fatal(err)
			}
			slotScore, _ := warehouse.CurrentRun(runs, pipelines.JobScore, simAsOf)
			slotLists, _ := warehouse.CurrentRun(runs, pipelines.JobLists, simAsOf)
			byHand := run(pipelines.RunRequest{Job: pipelines.JobLists, AsOf: simAsOf})
			for _, lr := range []warehouse.Run{slotLists, byHand} {
				if !lr.Watermark.Equal(slotScore.Watermark) || lr.Counts["score_version"] != int64(slotScore.Version) {
					t.Errorf("%s read up to %s after score run %d, want score run %s's watermark %s", lr.ID, lr.Watermark,
						lr.Counts["score_version"], slotScore.ID, slotScore.Watermark)
				}
				if e := entryOf(t, s, lr, entry.Key); e.State != model.ListStateListed {
					t.Errorf("%s: entry %s is %s (%s), while %s graded the firm with it", lr.ID, entry.Key, e.State, e.RemovedReason, slotScore.ID)
				}
			}
			for _, sc := range runScores(t, s, slotScore) {
				if sc.uscc == string(entry.USCC) && sc.grade != "D" {
					t.Errorf("%s graded the listed %s %s", slotScore.ID, sc.uscc, sc.grade)
				}
			}

			run(pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
			after := run(pipelines.RunRequest{Job: pipelines.JobLists, AsOf: simAsOf})
			if e := entryOf(t, s, after, entry.Key); e.State == model.ListStateListed || e.RemovedReason != model.RemovalWithdrawn {
				t.Errorf("%s after the revocation was scored: entry %s is %s (%s), want withdrawn", after.ID, entry.Key, e.State, e.RemovedReason)
			}
		})
	}
}

// entryOf is the dishonest entry with the key among a lists run's outputs.
func entryOf(t *testing.T, s backend, run warehouse.Run, key string) model.ListEntry {
	t.Helper()
	for _, e := range readListOutputs(t, s, run).entries[model.ListDishonest] {
		if e.Key == key {
			return e
		}
	}
	t.Fatalf("%s has no entry %s", run.ID, key)
	return model.ListEntry{}
}

func TestUnregisteredFirmsAreCountedNotDropped(t *testing.T) {
	// Given a city and two firms the register does not hold, one with a heavy penalty (a listing rule) and one with
	// a light one, when lists runs, then neither is listed (a listing needs the register's name) but the run counts
	// both as unregistered firms, the first as meeting a rule
	s, _ := simulated(t, 300)
	r := newRunner(t, s, defaultScorecard(t))
	run := func(job string) warehouse.Run {
		t.Helper()
		run, err := r.Run(t.Context(), pipelines.RunRequest{Job: job, AsOf: simAsOf})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	run(pipelines.JobScore)
	before := run(pipelines.JobLists)
	heavy, light := model.CompleteUSCC("91320830MA000001"), model.CompleteUSCC("91320830MA000002")
	var lines strings.Builder
	for i, p := range []struct {
		u        model.USCC
		severity string
	}{{heavy, "heavy"}, {light, "light"}} {
		fmt.Fprintf(&lines, `{"id":"320830-unreg-%d","type":"penalty.decided","uscc":"%s","source":"320830","occurred_at":"2026-05-04T10:00:00+08:00",`+
			`"data":{"case_no":"盱市监罚2026-9%d","violation":"counterfeit","severity":"%s"}}`+"\n", i, p.u, i, p.severity)
	}
	if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "unregistered.jsonl", strings.NewReader(lines.String())); err != nil {
		t.Fatal(err)
	}
	run(pipelines.JobScore)
	after := run(pipelines.JobLists)
	if got, want := after.Counts["unregistered_firms"], before.Counts["unregistered_firms"]+2; got != want {
		t.Errorf("unregistered_firms %d, want %d (counts %v)", got, want, after.Counts)
	}
	if got, want := after.Counts["unregistered_listable"], before.Counts["unregistered_listable"]+1; got != want {
		t.Errorf("unregistered_listable %d, want %d (counts %v)", got, want, after.Counts)
	}
	for _, e := range readListOutputs(t, s, after).entries[model.ListDishonest] {
		if e.USCC == heavy || e.USCC == light {
			t.Errorf("an unregistered firm has an entry: %+v", e)
		}
	}
}
