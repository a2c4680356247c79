package clusters_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

// simulatedCity generates a simulated city and reads its events the way the
// warehouse's feature query is specified to (see clusters.Input), in memory.
func simulatedCity(t testing.TB, cfg simulate.Config) (*clusters.Input, simulate.Truth) {
	t.Helper()
	var recs []model.Record
	truth, err := simulate.Generate(cfg, func(line []byte) error {
		item, dl := ingest.Decoder{}.Decode(line, model.Origin{})
		if dl != nil {
			t.Fatalf("simulated line refused: %s: %s", dl.Detail, line)
		}
		recs = append(recs, item.Record)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return inputOf(t, truth.End, recs), truth
}

// inputOf folds validated records into a cluster input as of asOf.
func inputOf(t testing.TB, asOf string, recs []model.Record) *clusters.Input {
	t.Helper()
	day, err := clusters.ParseAsOf(asOf)
	if err != nil {
		t.Fatal(err)
	}
	cutoff := day.AddDate(0, 0, 1)
	in := &clusters.Input{AsOf: asOf}
	firms := map[model.USCC]*model.Enterprise{}
	var order []model.USCC
	revoked, corrected := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		if !r.OccurredAt.Before(cutoff) {
			continue
		}
		key := string(r.USCC) + "|" + r.Facets.Ref
		switch r.Type {
		case model.EventPenaltyRevoked:
			revoked[key] = true
		case model.EventEquipmentHazardFixed:
			corrected[key] = true
		}
	}
	for _, r := range recs {
		if !r.OccurredAt.Before(cutoff) {
			continue
		}
		key := string(r.USCC) + "|" + r.Facets.Ref
		at := r.OccurredAt
		switch r.Type {
		case model.EventEnterpriseRegistered, model.EventEnterpriseUpdated:
			e := firms[r.USCC]
			if e == nil {
				e = &model.Enterprise{USCC: r.USCC}
				firms[r.USCC] = e
				order = append(order, r.USCC)
			}
			applyFields(t, e, r)
		case model.EventEnterpriseDeregistered:
			if e := firms[r.USCC]; e != nil {
				e.Deregistered = true
			}
		case model.EventSpotCheckCompleted:
			in.Checks = append(in.Checks, clusters.Check{EventID: r.ID, USCC: r.USCC, OccurredAt: at,
				Failed: r.Facets.Result == "fail", Product: r.Facets.Category})
		case model.EventPenaltyDecided:
			if !revoked[key] {
				in.Penalties = append(in.Penalties, clusters.Record{EventID: r.ID, USCC: r.USCC, OccurredAt: at})
			}
		case model.EventComplaintClosed:
			if r.Facets.Result == "verified" {
				in.Complaints = append(in.Complaints, clusters.Record{EventID: r.ID, USCC: r.USCC, OccurredAt: at})
			}
		case model.EventEquipmentHazardFound:
			if r.Facets.Due < asOf && !corrected[key] {
				in.OverdueHazards = append(in.OverdueHazards, clusters.Record{EventID: r.ID, USCC: r.USCC, OccurredAt: at})
			}
		case model.EventEquipmentAccident:
			in.Accidents = append(in.Accidents, clusters.Accident{EventID: r.ID, USCC: r.USCC, OccurredAt: at,
				Grade: model.AccidentGrade(r.Facets.Severity)})
		}
	}
	for _, u := range order {
		e := firms[u]
		if e.Deregistered {
			continue
		}
		in.Enterprises = append(in.Enterprises, clusters.Enterprise{USCC: e.USCC, Name: e.Name,
			Cluster: e.ClusterKey(), County: e.Region, Division: model.Division(e.Industry)})
	}
	return in
}

// applyFields folds an enterprise.* event's fields into e (updates are partial).
func applyFields(t testing.TB, e *model.Enterprise, r model.Record) {
	t.Helper()
	fields, err := model.ParseData(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		switch f.Name {
		case "name":
			e.Name = f.Text
		case "region":
			e.Region = f.Text
		case "industry":
			e.Industry = f.Text
		case "cluster":
			e.Cluster = f.Text
		}
	}
}

var simEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, model.Shanghai)

// plantedSummary sorts a run's clusters by what the simulator planted in them.
type plantedSummary struct {
	rising, risingFound int
	// clean clusters have no planted rising trend, no planted bad
	// enterprise and no accident of a serious grade in the window, as the
	// simulator's truth says (not as the model found).
	clean, cleanWarned int
	// accidentOnly are clusters without planted trouble warned red only
	// because of a serious accident (a fact the rule must warn about);
	// accidents counts those accidents.
	accidentOnly, accidents int
	// badFirm are clusters holding a planted consistently bad enterprise.
	badFirm, badFirmWarned int
	warnedClean            []string
	risingFigures          []string
}

func summarise(in *clusters.Input, res *clusters.Result, truth simulate.Truth) plantedSummary {
	rising := map[string]bool{}
	for _, rc := range truth.RisingClusters {
		rising[rc.Cluster] = true
	}
	bad := map[model.USCC]bool{}
	for _, u := range truth.BadEnterprises {
		bad[u] = true
	}
	// Serious accidents as the truth lists them, in the run's window.
	serious := map[model.USCC]int{}
	for _, a := range truth.Accidents {
		at, _ := time.Parse(time.RFC3339, a.OccurredAt)
		if model.AccidentGrade(a.Grade) != model.AccidentGradeGeneral && !at.Before(res.Window.Start) && at.Before(res.Window.Cutoff) {
			serious[a.USCC]++
		}
	}
	withBad, withAccident := map[string]bool{}, map[string]int{}
	for _, e := range in.Enterprises {
		if bad[e.USCC] {
			withBad[e.Cluster] = true
		}
		withAccident[e.Cluster] += serious[e.USCC]
	}
	var s plantedSummary
	for _, a := range res.Clusters {
		warned := a.Level.AtLeast(model.LevelYellow)
		switch {
		case rising[a.Cluster]:
			s.rising++
			s.risingFigures = append(s.risingFigures, fmt.Sprintf("%s %s z'=%.1f p=%.3f p0=%.3f", a.Cluster, a.Level,
				a.Evidence.ZAdjusted, a.Evidence.Rate, a.Evidence.Baseline))
			if warned {
				s.risingFound++
			}
		case withBad[a.Cluster]:
			s.badFirm++
			if warned {
				s.badFirmWarned++
			}
		case withAccident[a.Cluster] > 0:
			s.accidentOnly++
			s.accidents += withAccident[a.Cluster]
		default:
			s.clean++
			if warned {
				s.cleanWarned++
				s.warnedClean = append(s.warnedClean, a.Cluster+" "+string(a.Level))
			}
		}
	}
	return s
}

func TestPlantedRisingClustersAreFound(t *testing.T) {
	// given simulated cities of 20,000 enterprises over 2 years, when assessed
	// as of the simulation's end, then every planted rising cluster is yellow
	// or above and at most 1 in 20 clusters without planted trouble is (no
	// rising trend, no planted bad enterprise, no serious accident: those are
	// warned on purpose, and their figures are logged)
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []int64{1, 2, 3, 4, 5} {
		in, truth := simulatedCity(t, simulate.Config{Enterprises: 20000, Years: 2, Seed: seed, End: simEnd})
		res, err := cfg.Compute(in)
		if err != nil {
			t.Fatal(err)
		}
		s := summarise(in, res, truth)
		t.Logf("seed %d: φ = %.3f over %d clusters; rising %d/%d found %v; clean %d warned of %d %v; with a bad firm %d warned of %d; red by %d serious accidents %d",
			seed, res.Phi, res.PhiClusters, s.risingFound, s.rising, s.risingFigures, s.cleanWarned, s.clean, s.warnedClean, s.badFirmWarned, s.badFirm, s.accidents, s.accidentOnly)
		if s.rising == 0 || s.risingFound != s.rising {
			t.Errorf("seed %d: %d of %d planted rising clusters got yellow or above", seed, s.risingFound, s.rising)
		}
		if s.clean < 20 || s.cleanWarned*20 > s.clean {
			t.Errorf("seed %d: %d of %d clusters without planted trouble got yellow or above: %v", seed, s.cleanWarned, s.clean, s.warnedClean)
		}
	}
}
