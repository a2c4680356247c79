package clusters_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/model"
)

// insufficient stands for an assessment with insufficient data in runOf.
const insufficient model.Level = "insufficient-data"

// runOf is a result whose clusters have the given levels (the rest of the
// assessment does not matter to the lifecycle).
func runOf(t *testing.T, cfg *clusters.Config, asOf string, levels map[string]model.Level) *clusters.Result {
	t.Helper()
	w, err := cfg.WindowOf(asOf)
	if err != nil {
		t.Fatal(err)
	}
	res := &clusters.Result{AsOf: asOf, Version: cfg.Version, Window: w}
	for key, l := range levels {
		a := model.ClusterAssessment{Cluster: key, Division: "C30", County: "320830", Level: l, Status: model.AssessmentStatusAssessed}
		if l == insufficient {
			a.Level, a.Status = model.LevelNone, model.AssessmentStatusInsufficientData
			a.Reasons = []model.Reason{{Rule: clusters.RuleInsufficientData, Detail: "insufficient data: n = 12 < 20 checks"}}
		}
		res.Clusters = append(res.Clusters, a)
	}
	slices.SortFunc(res.Clusters, func(a, b model.ClusterAssessment) int { return strings.Compare(a.Cluster, b.Cluster) })
	return res
}

func at(day string) time.Time {
	d, _ := time.ParseInLocation(time.DateOnly, day, model.Shanghai)
	return d.Add(10 * time.Hour)
}

func changes(w model.Warning) []string {
	var out []string
	for _, h := range w.History {
		out = append(out, h.AsOf+" "+string(h.Change)+" "+string(h.From)+">"+string(h.To))
	}
	return out
}

func TestWarningLifecycle(t *testing.T) {
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	const xuyi = "xuyi-attapulgite"
	ack := clusters.AnalystEvent{EventID: "320830-ack-1", Type: model.EventWarningAcknowledged, WarningID: "cw-xuyi-attapulgite-20260331",
		OccurredAt: at("2026-04-02"), Analyst: "analyst-7", Note: "已转盱眙县局"}
	action := clusters.AnalystEvent{EventID: "320830-act-1", Type: model.EventWarningActionRecorded, WarningID: "cw-xuyi-attapulgite-20260331",
		OccurredAt: at("2026-05-10"), Analyst: "analyst-7", Action: "约谈3家企业负责人"}
	unknown := clusters.AnalystEvent{EventID: "320830-ack-9", Type: model.EventWarningAcknowledged, WarningID: "cw-none-20260101",
		OccurredAt: at("2026-04-03"), Analyst: "analyst-7"}
	events := []clusters.AnalystEvent{action, ack, unknown}

	steps := []struct {
		name   string
		asOf   string
		levels map[string]model.Level
		// want is the xuyi warnings' ids, status and level after the run.
		want        []string
		wantChanges []string // of the first xuyi warning
		wantNeedAck bool
	}{
		{"given a first yellow, when tracked, then a warning is raised",
			"2026-03-31", map[string]model.Level{xuyi: model.LevelYellow, "320831-C35": model.LevelNone},
			[]string{"cw-xuyi-attapulgite-20260331 open yellow"},
			[]string{"2026-03-31 raised >yellow"}, true},
		{"given an acknowledgement and red, when tracked, then it is acknowledged, escalated and asks again",
			"2026-04-30", map[string]model.Level{xuyi: model.LevelRed},
			[]string{"cw-xuyi-attapulgite-20260331 open red"},
			[]string{"2026-03-31 raised >yellow", "2026-04-30 acknowledged yellow>yellow", "2026-04-30 escalated yellow>red"}, true},
		{"given an action and orange, when tracked, then the action is recorded once and it is de-escalated",
			"2026-05-31", map[string]model.Level{xuyi: model.LevelOrange},
			[]string{"cw-xuyi-attapulgite-20260331 open orange"},
			[]string{"2026-03-31 raised >yellow", "2026-04-30 acknowledged yellow>yellow", "2026-04-30 escalated yellow>red",
				"2026-05-31 action_recorded red>red", "2026-05-31 deescalated red>orange"}, true},
		{"given the same level, when tracked, then nothing is added",
			"2026-06-15", map[string]model.Level{xuyi: model.LevelOrange},
			[]string{"cw-xuyi-attapulgite-20260331 open orange"},
			[]string{"2026-03-31 raised >yellow", "2026-04-30 acknowledged yellow>yellow", "2026-04-30 escalated yellow>red",
				"2026-05-31 action_recorded red>red", "2026-05-31 deescalated red>orange"}, true},
		{"given insufficient data, when tracked, then the warning is closed and says why",
			"2026-06-30", map[string]model.Level{xuyi: insufficient},
			[]string{"cw-xuyi-attapulgite-20260331 closed "},
			[]string{"2026-03-31 raised >yellow", "2026-04-30 acknowledged yellow>yellow", "2026-04-30 escalated yellow>red",
				"2026-05-31 action_recorded red>red", "2026-05-31 deescalated red>orange", "2026-06-30 closed orange>"}, false},
		{"given a new signal, when tracked, then a new episode is raised beside the closed one",
			"2026-07-31", map[string]model.Level{xuyi: model.LevelBlue},
			[]string{"cw-xuyi-attapulgite-20260331 closed ", "cw-xuyi-attapulgite-20260731 open blue"}, nil, true},
		{"given a year and more after closing, when tracked, then the closed warning is dropped",
			"2027-07-01", map[string]model.Level{xuyi: model.LevelBlue},
			[]string{"cw-xuyi-attapulgite-20260731 open blue"}, nil, true},
	}
	var previous []model.Warning
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := clone(t, previous)
			tr, err := cfg.Track(clusters.TrackInput{Result: runOf(t, cfg, st.asOf, st.levels), Previous: previous, Events: events})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(previous, before) {
				t.Fatal("Track changed the previous warnings")
			}
			var got []string
			for _, w := range tr.Warnings {
				got = append(got, w.ID+" "+string(w.Status)+" "+string(w.Level))
			}
			if !slices.Equal(got, st.want) {
				t.Fatalf("warnings %q, want %q", got, st.want)
			}
			if st.wantChanges != nil {
				w := tr.Warnings[0]
				if c := changes(w); !slices.Equal(c, st.wantChanges) {
					t.Fatalf("history %q, want %q", c, st.wantChanges)
				}
				if h := w.History[len(w.History)-1]; h.Change == model.ChangeKindClosed && !strings.Contains(h.Detail, "insufficient data") {
					t.Fatalf("closed without saying why: %q", h.Detail)
				}
			}
			if last := tr.Warnings[len(tr.Warnings)-1]; last.NeedsAcknowledgement != st.wantNeedAck {
				t.Fatalf("%s needs acknowledgement %v, want %v", last.ID, last.NeedsAcknowledgement, st.wantNeedAck)
			}
			previous = tr.Warnings
		})
	}
}

// clone deep-copies warnings through their own fields, so a mutation by
// Track of any shared slice would show.
func clone(t *testing.T, ws []model.Warning) []model.Warning {
	t.Helper()
	if ws == nil {
		return nil
	}
	out := make([]model.Warning, len(ws))
	for i, w := range ws {
		w.History = slices.Clone(w.History)
		w.Actions = slices.Clone(w.Actions)
		out[i] = w
	}
	return out
}

func TestAcknowledgementCarried(t *testing.T) {
	// given an acknowledged warning, when later runs keep or lower its level,
	// then the acknowledgement stays and no new one is asked for; unknown
	// warnings' events are reported, events after the cutoff wait
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	key := "盱眙凹土产业园"
	r1, err := cfg.Track(clusters.TrackInput{Result: runOf(t, cfg, "2026-03-31", map[string]model.Level{key: model.LevelOrange})})
	if err != nil {
		t.Fatal(err)
	}
	id := r1.Warnings[0].ID
	if !strings.HasPrefix(id, "cw-h") || !strings.HasSuffix(id, "-20260331") || len(id) != len("cw-h123456789abc-20260331") {
		t.Fatalf("id %q of a non-URL-safe key", id)
	}
	events := []clusters.AnalystEvent{
		{EventID: "a1", Type: model.EventWarningAcknowledged, WarningID: id, OccurredAt: at("2026-04-01"), Analyst: "analyst-1"},
		{EventID: "a2", Type: model.EventWarningAcknowledged, WarningID: "cw-x-20250101", OccurredAt: at("2026-04-01"), Analyst: "analyst-1"},
		{EventID: "a3", Type: model.EventWarningActionRecorded, WarningID: id, OccurredAt: at("2026-05-02"), Analyst: "analyst-1", Action: "复查"},
	}
	r2, err := cfg.Track(clusters.TrackInput{Result: runOf(t, cfg, "2026-04-30", map[string]model.Level{key: model.LevelYellow}),
		Previous: r1.Warnings, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	r3, err := cfg.Track(clusters.TrackInput{Result: runOf(t, cfg, "2026-05-01", map[string]model.Level{key: model.LevelYellow}),
		Previous: r2.Warnings, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	w := r3.Warnings[0]
	if w.Acknowledgement == nil || w.Acknowledgement.EventID != "a1" || w.Acknowledgement.Level != model.LevelOrange || w.NeedsAcknowledgement {
		t.Fatalf("acknowledgement %+v, needs %v", w.Acknowledgement, w.NeedsAcknowledgement)
	}
	if len(w.Actions) != 0 {
		t.Fatalf("an action after the cutoff was applied: %+v", w.Actions)
	}
	if len(r2.Ignored) != 1 || r2.Ignored[0].EventID != "a2" {
		t.Fatalf("ignored %+v", r2.Ignored)
	}
}

func TestTrackRefusesStackedRuns(t *testing.T) {
	// given previous warnings from this same as_of, when tracked, then Track
	// refuses and says which output to pass
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	res := runOf(t, cfg, "2026-03-31", map[string]model.Level{"a": model.LevelYellow})
	r1, err := cfg.Track(clusters.TrackInput{Result: res})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Track(clusters.TrackInput{Result: res, Previous: r1.Warnings})
	if err == nil || !strings.Contains(err.Error(), "pass the output before this as_of") {
		t.Fatalf("error %v", err)
	}
}

func TestLetterOnRaiseAndEscalation(t *testing.T) {
	// given a cluster raised as a watch, escalated to yellow and red, then
	// de-escalated to orange, when tracked run by run, then the warning's
	// letter is the one of the run that last raised or escalated it to a
	// level with a letter (blue has none; a de-escalation writes none)
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		asOf  string
		level model.Level
		want  string
	}{
		{"2026-01-31", model.LevelBlue, ""},
		{"2026-02-28", model.LevelYellow, "2026-02-28"},
		{"2026-03-31", model.LevelRed, "2026-03-31"},
		{"2026-04-30", model.LevelOrange, "2026-03-31"},
		{"2026-05-31", model.LevelOrange, "2026-03-31"},
	}
	var previous []model.Warning
	for _, st := range steps {
		tr, err := cfg.Track(clusters.TrackInput{Result: runOf(t, cfg, st.asOf, map[string]model.Level{"c": st.level}), Previous: previous})
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Warnings) != 1 || tr.Warnings[0].LetterOn != st.want {
			t.Fatalf("%s at %s: warnings %+v, want letter_on %q", st.asOf, st.level, tr.Warnings, st.want)
		}
		previous = tr.Warnings
	}
}
