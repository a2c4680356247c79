package pipelines_test

import (
	"bytes"
	"encoding/json"
	"fmt"
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
		pipelines.NewScoreJob(s, defaultScorecard(t), quiet), pipelines.NewClustersJob(s, cfg, quiet)}})
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
		case strings.HasPrefix(k, pipelines.ClusterKeyAssessment):
			var a model.ClusterAssessment
			out.assessments[a.Cluster] = a
			if err := decode(o, &a); err != nil || a.Cluster != strings.TrimPrefix(k, pipelines.ClusterKeyAssessment) || o.Label != string(a.Level) {
				return fmt.Errorf("assessment %s (label %q): %+v %v", k, o.Label, a, err)
			}
			out.assessments[a.Cluster] = a
		case strings.HasPrefix(k, pipelines.ClusterKeyWarning):
			var w model.Warning
			if err := decode(o, &w); err != nil || o.Label != string(w.Level) {
				return fmt.Errorf("warning %s (label %q): %+v %v", k, o.Label, w, err)
			}
			out.warnings[w.ID] = w
		case strings.HasPrefix(k, pipelines.ClusterKeyLetter):
			out.letters[strings.TrimPrefix(k, pipelines.ClusterKeyLetter)] = string(o.Payload)
		case strings.HasPrefix(k, pipelines.ClusterKeyFunnel):
			var f model.FunnelPlot
			if err := decode(o, &f); err != nil {
				return err
			}
			out.funnels[f.Division] = f
		case k == pipelines.ClusterKeyRun:
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

func simulatedCity(t *testing.T, cfg simulate.Config) cityOf {
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
			city := simulatedCity(t, simulate.Config{Enterprises: 20000, Years: 2, Seed: seed, End: end})
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
