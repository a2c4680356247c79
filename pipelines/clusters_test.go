package pipelines_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// clustersRunner runs score and clusters on s.
func clustersRunner(t *testing.T, s backend) *pipelines.Runner {
	t.Helper()
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{
		scoreJob(t, s, defaultScorecard(t)), pipelines.NewClustersJob(s, cfg, quiet)}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runJob runs job as of asOf and fails the test on an error.
func runJob(t *testing.T, r *pipelines.Runner, job, asOf string) warehouse.Run {
	t.Helper()
	run, err := r.Run(t.Context(), pipelines.RunRequest{Job: job, AsOf: asOf})
	if err != nil {
		t.Fatalf("%s as of %s: %v", job, asOf, err)
	}
	return run
}

// clusterOutputs are a clusters run's outputs, decoded.
type clusterOutputs struct {
	assessments map[string]model.ClusterAssessment
	warnings    map[string]model.Warning
	letters     map[string]string
	funnels     map[string]model.FunnelPlot
	run         model.ClusterRun
}

func readClusterOutputs(t *testing.T, s backend, run warehouse.Run) clusterOutputs {
	t.Helper()
	out := clusterOutputs{assessments: map[string]model.ClusterAssessment{}, warnings: map[string]model.Warning{},
		letters: map[string]string{}, funnels: map[string]model.FunnelPlot{}}
	decode := func(o warehouse.OutputRow, v any) error {
		if err := json.Unmarshal(o.Payload, v); err != nil {
			return fmt.Errorf("%s: %w", o.Key, err)
		}
		return nil
	}
	err := s.ReadOutputs(t.Context(), warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true}, func(o warehouse.OutputRow) error {
		if o.USCC != "" {
			return fmt.Errorf("output %s concerns enterprise %s", o.Key, o.USCC)
		}
		switch k := o.Key; {
		case strings.HasPrefix(k, model.ClusterKeyAssessment):
			var a model.ClusterAssessment
			out.assessments[a.Cluster] = a
			if err := decode(o, &a); err != nil || a.Cluster != strings.TrimPrefix(k, model.ClusterKeyAssessment) || o.Label != string(a.Level) {
				return fmt.Errorf("assessment %s (label %q): %+v %v", k, o.Label, a, err)
			}
			out.assessments[a.Cluster] = a
		case strings.HasPrefix(k, model.ClusterKeyWarning):
			var w model.Warning
			if err := decode(o, &w); err != nil || o.Label != string(w.Level) {
				return fmt.Errorf("warning %s (label %q): %+v %v", k, o.Label, w, err)
			}
			out.warnings[w.ID] = w
		case strings.HasPrefix(k, model.ClusterKeyLetter):
			out.letters[strings.TrimPrefix(k, model.ClusterKeyLetter)] = string(o.Payload)
		case strings.HasPrefix(k, model.ClusterKeyFunnel):
			var f model.FunnelPlot
			if err := decode(o, &f); err != nil {
				return err
			}
			out.funnels[f.Division] = f
		case k == model.ClusterKeyRun:
			return decode(o, &out.run)
		default:
			return fmt.Errorf("unexpected output %s", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cityOf are the simulated lines with each firm's cluster (as the job
// computes it) and the planted truth.
type cityOf struct {
	lines   []byte
	truth   simulate.Truth
	cluster map[model.USCC]string
}

func simulatedClusterCity(t *testing.T, cfg simulate.Config) cityOf {
	t.Helper()
	c := cityOf{cluster: map[model.USCC]string{}}
	var buf bytes.Buffer
	truth, err := simulate.Generate(cfg, func(line []byte) error {
		buf.Write(line)
		buf.WriteByte('\n')
		var e struct {
			Type model.EventType
			USCC model.USCC
			Data model.Enterprise
		}
		if bytes.Contains(line, []byte(`"enterprise.registered"`)) {
			if err := json.Unmarshal(line, &e); err != nil {
				return err
			}
			e.Data.Region = model.CurrentRegion(e.Data.Region)
			c.cluster[e.USCC] = e.Data.ClusterKey()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.lines, c.truth = buf.Bytes(), truth
	return c
}

// troubled are the clusters the truth says have trouble in the window
// ending with as_of: a planted rising trend, a planted consistently bad
// enterprise, or an accident of grade larger or above.
func (c cityOf) troubled(t *testing.T, start, cutoff time.Time) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, rc := range c.truth.RisingClusters {
		out[rc.Cluster] = "rising"
	}
	for _, u := range c.truth.BadEnterprises {
		if _, ok := out[c.cluster[u]]; !ok {
			out[c.cluster[u]] = "bad firm " + string(u)
		}
	}
	for _, a := range c.truth.Accidents {
		at, err := time.Parse(time.RFC3339, a.OccurredAt)
		if err != nil {
			t.Fatal(err)
		}
		serious := model.AccidentGrade(a.Grade) != model.AccidentGradeGeneral
		if _, ok := out[c.cluster[a.USCC]]; !ok && serious && !at.Before(start) && at.Before(cutoff) {
			out[c.cluster[a.USCC]] = a.Grade + " accident " + a.EventID
		}
	}
	return out
}

func TestClustersFindPlantedTrouble(t *testing.T) {
	// Given simulated cities (several seeds) imported into DuckDB and
	// scored, when clusters runs as of the day before the planted
	// clusters' failure rate rises and again a year later, then in the run
	// after the deterioration every planted rising cluster is yellow or
	// above, at most 1 in 20 clusters without planted trouble (the truth's
	// rising clusters, planted bad firms and serious accidents) is, and
	// clusters below the minimum sample get no statistical level.
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			end := time.Date(2026, 6, 30, 0, 0, 0, 0, model.Shanghai)
			city := simulatedClusterCity(t, simulate.Config{Enterprises: 20000, Years: 2, Seed: seed, End: end})
			s := duckdbtest.Open(t)
			if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(city.lines)); err != nil {
				t.Fatal(err)
			}
			r := clustersRunner(t, s)
			before := end.AddDate(0, 0, -365).Format(time.DateOnly) // the simulator's last year starts the day after
			runJob(t, r, pipelines.JobScore, before)
			first := readClusterOutputs(t, s, runJob(t, r, pipelines.JobClusters, before))
			runJob(t, r, pipelines.JobScore, simAsOf)
			after := readClusterOutputs(t, s, runJob(t, r, pipelines.JobClusters, simAsOf))

			trouble := city.troubled(t, after.run.Start, after.run.Cutoff)
			var clean, cleanWarned, insufficient int
			var warnedClean []string
			for key, a := range after.assessments {
				warned := a.Level.AtLeast(model.LevelYellow)
				why, troubled := trouble[key]
				switch {
				case why == "rising":
					t.Logf("rising %s: %s before, %s after (z' %.1f, p̂ %.3f, p0 %.3f)", key, first.assessments[key].Level, a.Level,
						a.Evidence.ZAdjusted, a.Evidence.Rate, a.Evidence.Baseline)
					if !warned {
						t.Errorf("planted rising cluster %s is %q after its deterioration: %+v", key, a.Level, a.Evidence)
					}
				case !troubled:
					clean++
					if warned {
						cleanWarned++
						warnedClean = append(warnedClean, key+" "+string(a.Level))
					}
				}
				if a.Status == model.AssessmentStatusInsufficientData {
					insufficient++
					if a.Evidence.Checks >= 20 && a.Evidence.Enterprises >= 5 || a.Evidence.Limit != model.LimitNone ||
						(a.Level != model.LevelNone && a.Indicators.SeriousAccidents == 0) {
						t.Errorf("cluster %s below the minimum sample got a statistical level: %+v", key, a)
					}
				}
			}
			t.Logf("clusters %d (insufficient data %d, φ %.2f); without planted trouble %d, of which yellow or above %d %v",
				len(after.assessments), insufficient, after.run.Phi, clean, cleanWarned, warnedClean)
			if clean < 20 || cleanWarned*20 > clean {
				t.Errorf("%d of %d clusters without planted trouble got yellow or above: %v", cleanWarned, clean, warnedClean)
			}
			if insufficient == 0 {
				t.Error("no cluster below the minimum sample: the case is not exercised")
			}
			for _, rc := range city.truth.RisingClusters {
				w := openWarning(after, rc.Cluster)
				if w == nil {
					t.Errorf("rising cluster %s has no open warning", rc.Cluster)
					continue
				}
				// Its letter is the run's that raised or escalated it last.
				letter := after.letters[w.ID] + first.letters[w.ID]
				if w.LetterOn == "" || !strings.Contains(letter, "质量风险提示函") || !strings.Contains(letter, w.ID) {
					t.Errorf("rising cluster %s: warning %s with letter_on %q, letter of %d bytes", rc.Cluster, w.ID, w.LetterOn, len(letter))
				}
			}
		})
	}
}

// openWarning is a cluster's open warning in a run, or nil.
func openWarning(o clusterOutputs, cluster string) *model.Warning {
	for _, w := range o.warnings {
		if w.Cluster == cluster && w.Status == model.WarningStatusOpen {
			return &w
		}
	}
	return nil
}

// lifecycleCity is a city of 21 declared clusters of five attapulgite
// firms (C3099, 320830) checked once a month from 2021 to 2024, and one
// cluster of two firms checked once (below the minimum sample). Twenty
// clusters fail exactly one check in twenty (5 %); cluster "x" follows
// xFailures, a month's failures among its five checks.
func lifecycleCity(t *testing.T, extra ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	n := 0
	line := func(typ model.EventType, uscc model.USCC, at time.Time, data map[string]any) {
		n++
		e := map[string]any{"id": fmt.Sprintf("320830-%d", n), "type": typ, "source": "320830",
			"occurred_at": at.Format(time.RFC3339), "data": data}
		if uscc != "" {
			e["uscc"] = uscc
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(raw)
		b.WriteByte('\n')
	}
	firm := func(cluster, k int) model.USCC {
		return model.CompleteUSCC(fmt.Sprintf("91320830MA%02d%04d", cluster, k))
	}
	names := func(c int) string {
		if c == 20 {
			return "x"
		}
		return fmt.Sprintf("c%02d", c)
	}
	start := time.Date(2021, 1, 1, 9, 0, 0, 0, model.Shanghai)
	for c := range 21 {
		for k := range 5 {
			line(model.EventEnterpriseRegistered, firm(c, k), start, map[string]any{"name": fmt.Sprintf("凹土%s%d有限公司", names(c), k),
				"region": "320830", "industry": "C3099", "cluster": names(c)})
		}
	}
	for k := range 2 {
		u := model.CompleteUSCC(fmt.Sprintf("91320830MA99%04d", k))
		line(model.EventEnterpriseRegistered, u, start, map[string]any{"name": "小型凹土有限公司", "region": "320830", "industry": "C3099", "cluster": "tiny"})
		line(model.EventSpotCheckCompleted, u, start.AddDate(3, 0, 1), map[string]any{"check_id": fmt.Sprint("T", k), "product": "凹土干燥剂", "result": "pass"})
	}
	for m := range 48 {
		for c := range 21 {
			for k := range 5 {
				fail := (m*5+k+c)%20 == 0
				if c == 20 {
					fail = k < xFailures(start.AddDate(0, m, 0))
				}
				d := map[string]any{"check_id": fmt.Sprintf("CJ-%d-%d-%d", m, c, k), "product": "凹凸棒石黏土", "result": "pass"}
				if fail {
					d["result"], d["severity"] = "fail", "major"
				}
				line(model.EventSpotCheckCompleted, firm(c, k), start.AddDate(0, m, 9+k).Add(time.Duration(c)*time.Minute), d)
			}
		}
	}
	for _, e := range extra {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// xFailures is cluster x's story: 5 % until mid-2022; a year at 7 in 60
// (an alert); a burst of 8 failures in July–September 2023 (an alarm and
// a rising CUSUM); none after (the burst ages, then leaves the window).
func xFailures(month time.Time) int {
	switch ym := month.Format("2006-01"); {
	case ym < "2022-07":
		if month.Month()%4 == 1 {
			return 1
		}
		return 0
	case ym < "2023-07":
		return []int{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1}[(int(month.Month())+5)%12]
	case ym == "2023-07" || ym == "2023-08":
		return 3
	case ym == "2023-09":
		return 2
	}
	return 0
}

// analystLine is an analyst's event on a warning as JSONL.
func analystLine(id string, typ model.EventType, at string, data string) string {
	return fmt.Sprintf(`{"id":%q,"type":%q,"source":"320830","occurred_at":"%sT10:00:00+08:00","data":%s}`, id, typ, at, data)
}

func TestClustersLifecycleAcrossRuns(t *testing.T) {
	// Given a cluster whose failures rise, burst and fall back, and an
	// analyst who acknowledges its warning and records an action, when
	// clusters runs at four dates, then one warning is raised (yellow),
	// acknowledged and escalated (red, asking for a new acknowledgement),
	// given the action and de-escalated (yellow, acknowledged at that level
	// already), then closed; an event naming no warning is reported; letters are
	// written when it is raised and escalated only; the tiny cluster is
	// reported as insufficient data; a re-run --like an earlier run
	// reproduces its digest; and DuckDB and ClickHouse give the same
	// digest for every run.
	const id = "cw-x-20230630"
	city := lifecycleCity(t,
		analystLine("320830-ack-1", model.EventWarningAcknowledged, "2023-07-05", `{"warning_id":"`+id+`","analyst":"王分析","note":"已转盱眙县局核查"}`),
		analystLine("320830-act-1", model.EventWarningActionRecorded, "2023-10-10", `{"warning_id":"`+id+`","analyst":"王分析","action":"约谈3家企业负责人并复查"}`),
		analystLine("320830-ack-9", model.EventWarningAcknowledged, "2023-06-20", `{"warning_id":"cw-nowhere-20230101","analyst":"王分析"}`))
	steps := []struct {
		asOf    string
		level   model.Level
		status  model.WarningStatus
		changes []string
		letter  bool
		needAck bool
	}{
		{"2023-06-30", model.LevelYellow, model.WarningStatusOpen, []string{"2023-06-30 raised >yellow"}, true, true},
		{"2023-09-30", model.LevelRed, model.WarningStatusOpen, []string{"2023-06-30 raised >yellow",
			"2023-09-30 acknowledged yellow>yellow", "2023-09-30 escalated yellow>red"}, true, true},
		{"2024-06-30", model.LevelYellow, model.WarningStatusOpen, []string{"2023-06-30 raised >yellow",
			"2023-09-30 acknowledged yellow>yellow", "2023-09-30 escalated yellow>red",
			"2024-06-30 action_recorded red>red", "2024-06-30 deescalated red>yellow"}, false, false},
		{"2024-10-31", model.LevelNone, model.WarningStatusClosed, []string{"2023-06-30 raised >yellow",
			"2023-09-30 acknowledged yellow>yellow", "2023-09-30 escalated yellow>red",
			"2024-06-30 action_recorded red>red", "2024-06-30 deescalated red>yellow", "2024-10-31 closed yellow>"}, false, false},
	}
	digests := map[string][]string{}
	for name, s := range bothBackends(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "city.jsonl", bytes.NewReader(city)); err != nil {
				t.Fatal(err)
			}
			r := clustersRunner(t, s)
			var runs []warehouse.Run
			for _, st := range steps {
				run := runJob(t, r, pipelines.JobClusters, st.asOf)
				runs = append(runs, run)
				digests[name] = append(digests[name], run.Digest)
				out := readClusterOutputs(t, s, run)
				x := out.assessments["x"]
				w, ok := out.warnings[id]
				if x.Level != st.level || !ok || w.Status != st.status || w.Level != st.level || w.NeedsAcknowledgement != st.needAck {
					t.Fatalf("as of %s: x is %q (z' %.2f, S %.2f, signals %v), warning %+v; want %q %s", st.asOf, x.Level,
						x.Evidence.ZAdjusted, x.Evidence.CUSUM.Max, x.Signals, w, st.level, st.status)
				}
				if got := changes(w); !slices.Equal(got, st.changes) {
					t.Errorf("as of %s: history %q, want %q", st.asOf, got, st.changes)
				}
				if _, ok := out.letters[id]; ok != st.letter || int64(len(out.letters)) != run.Counts["letters"] {
					t.Errorf("as of %s: letter written %v, want %v (%d letters)", st.asOf, ok, st.letter, len(out.letters))
				}
				if len(out.warnings) != 1 {
					t.Errorf("as of %s: warnings %v, want only x's", st.asOf, out.warnings)
				}
				if tiny := out.assessments["tiny"]; tiny.Status != model.AssessmentStatusInsufficientData || tiny.Level != model.LevelNone {
					t.Errorf("as of %s: tiny cluster %+v", st.asOf, tiny)
				}
				if len(out.run.Ignored) != 1 || out.run.Ignored[0].EventID != "320830-ack-9" {
					t.Errorf("as of %s: ignored events %+v", st.asOf, out.run.Ignored)
				}
			}
			like, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobClusters, Like: runs[1].ID})
			if err != nil || like.Digest != runs[1].Digest {
				t.Errorf("--like %s: %+v %v, want digest %s", runs[1].ID, like, err, runs[1].Digest)
			}
		})
	}
	if d, c := digests["duckdb"], digests["clickhouse"]; !slices.Equal(d, c) || len(d) != len(steps) {
		t.Errorf("digests differ:\n DuckDB     %v\n ClickHouse %v", d, c)
	}
}

func changes(w model.Warning) []string {
	var out []string
	for _, h := range w.History {
		out = append(out, h.AsOf+" "+string(h.Change)+" "+string(h.From)+">"+string(h.To))
	}
	return out
}

func TestClustersIdenticalOnBothBackends(t *testing.T) {
	// Given the same simulated city (penalties, complaints, hazards,
	// accidents, grades, historical region codes) in DuckDB and ClickHouse,
	// when score and then clusters run as of the same day, then the
	// clusters runs have the same counts and the same output digest.
	lines := simulatedLines(t, 3000, 5)
	runs := map[string]warehouse.Run{}
	for name, s := range bothBackends(t) {
		if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(lines)); err != nil {
			t.Fatal(err)
		}
		r := clustersRunner(t, s)
		runJob(t, r, pipelines.JobScore, simAsOf)
		runs[name] = runJob(t, r, pipelines.JobClusters, simAsOf)
	}
	d, c := runs["duckdb"], runs["clickhouse"]
	t.Logf("counts %v", d.Counts)
	if d.Digest != c.Digest || d.Counts["clusters"] == 0 || d.Counts["warnings_open"] == 0 || d.Counts["letters"] == 0 {
		t.Errorf("DuckDB run %+v\nClickHouse run %+v", d, c)
	}
	for k, v := range d.Counts {
		if c.Counts[k] != v {
			t.Errorf("count %s: DuckDB %d, ClickHouse %d", k, v, c.Counts[k])
		}
	}
}
