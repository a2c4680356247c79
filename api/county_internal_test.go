package api

import (
	"log/slog"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func TestADeclaredClusterAcrossCountiesNamesOnlyTheKeysFirms(t *testing.T) {
	// Given a declared cluster whose firms are in two counties (盱眙 320830
	// and 清江浦 320812), when a key bound to 盱眙 sees the cluster's
	// assessment, then its top enterprises are 盱眙's only and the letter
	// (which names every top firm) is not the key's to read; a city-wide
	// key sees both firms and may read it.
	s := duckdbtest.Open(t)
	on := time.Date(2025, 1, 2, 9, 0, 0, 0, model.Shanghai)
	reg := func(id string, u model.USCC, region string) warehouse.Item {
		return conformance.Event(t, id, model.EventEnterpriseRegistered, u, on,
			map[string]any{"name": "企业" + id, "region": region, "industry": "C3130", "cluster": "huaian-steel"})
	}
	if _, err := s.Write(t.Context(), warehouse.Batch{Items: []warehouse.Item{reg("a", conformance.FirmA, "320830"), reg("b", conformance.FirmB, "320812")}}); err != nil {
		t.Fatal(err)
	}
	rm, err := serving.NewStore(s, slog.New(slog.DiscardHandler), serving.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rm.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	m := rm.Current()
	a := model.ClusterAssessment{Cluster: "huaian-steel", County: "320830", Evidence: model.ClusterEvidence{
		Top: []model.FirmEvidence{{USCC: conformance.FirmB, Failures: 3}, {USCC: conformance.FirmA, Failures: 2}}}}
	county, city := Caller{Key: "xuyi", Scope: ScopeAnalyst, Region: "320830"}, Caller{Key: "city", Scope: ScopeAnalyst}

	got := coveredTop(m, county, a)
	if len(got.Evidence.Top) != 1 || got.Evidence.Top[0].USCC != conformance.FirmA || len(a.Evidence.Top) != 2 {
		t.Errorf("the county key's top firms %+v (the read model's %+v)", got.Evidence.Top, a.Evidence.Top)
	}
	if got := coveredTop(m, city, a); len(got.Evidence.Top) != 2 {
		t.Errorf("the city key's top firms %+v", got.Evidence.Top)
	}
	if clusterWithin(m, county, "huaian-steel") || !clusterWithin(m, city, "huaian-steel") {
		t.Errorf("letter: the county key may read it %v, the city key %v", clusterWithin(m, county, "huaian-steel"), clusterWithin(m, city, "huaian-steel"))
	}
	if f := (&countyCache{}).figures(m, "320830"); f.enterprises != 1 || len(f.breakdown.ByCluster) != 1 || f.breakdown.ByCluster[0].Total() != 1 {
		t.Errorf("the county's figures: %d enterprises, clusters %+v", f.enterprises, f.breakdown.ByCluster)
	}
}
