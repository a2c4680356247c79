package planning_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/qcredit/qcredit/planning"
)

func registry() []planning.Agency {
	return []planning.Agency{
		{ID: "ha-qi", Name: "淮安市产品质量监督综合检验中心", InCity: true, Products: []string{"冻小龙虾", "大米", "白酒"}},
		{ID: "ha-food", Name: "淮安市食品药品检验所", InCity: true, Products: []string{"冻小龙虾", "大米"}},
		{ID: "js-steel", Name: "江苏省特种钢材检测中心", InCity: false, Products: []string{"轴承钢", "大米"}},
	}
}

func assign(t *testing.T, batches []planning.Batch, rules planning.AssignmentRules) (planning.CreatedAssignment, planning.Assignment) {
	t.Helper()
	in := planning.CreateAssignmentInput{ID: "assign-2027-q1", Name: "2027年第一季度承检机构", Plan: "plan 2027",
		Batches: batches, Agencies: registry(), Rules: rules, BeaconSource: "上证指数2026年12月31日收盘点位", Seed: seed(7)}
	c, err := planning.CreateAssignment(in)
	if err != nil {
		t.Fatal(err)
	}
	a, err := planning.PerformAssignment(planning.PerformAssignmentInput{Assignment: c.Assignment,
		BatchesCSV: c.BatchesCSV, AgenciesCSV: c.AgenciesCSV, Seed: in.Seed, Beacon: beacon})
	if err != nil {
		t.Fatal(err)
	}
	return c, a
}

func batchesOf(product string, n int) []planning.Batch {
	out := make([]planning.Batch, n)
	for i := range out {
		out[i] = planning.Batch{ID: fmt.Sprintf("2027-q1-%x-%04d", product[:3], i), Product: product}
	}
	return out
}

func TestAssignmentEligibility(t *testing.T) {
	tests := []struct {
		name    string
		product string
		outside bool
		want    []string // the agencies that may get its batches; none: unassigned
	}{
		{"only qualified agencies", "白酒", true, []string{"ha-qi"}},
		{"outside the city when allowed", "大米", true, []string{"ha-food", "ha-qi", "js-steel"}},
		{"only in the city when not", "大米", false, []string{"ha-food", "ha-qi"}},
		{"no agency in the city is qualified", "轴承钢", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a registry, when 60 batches of a product are assigned, then only eligible agencies get them, each some
			_, a := assign(t, batchesOf(tt.product, 60), planning.AssignmentRules{OutsideCity: tt.outside})
			got := map[string]int{}
			for _, b := range a.Assigned {
				got[b.Agency]++
			}
			agencies := slices.Sorted(maps.Keys(got))
			if !slices.Equal(agencies, tt.want) {
				t.Errorf("agencies %v (%v), want %v", agencies, got, tt.want)
			}
			if tt.want == nil && len(a.Unassigned) != 60 {
				t.Errorf("%d unassigned, want all 60", len(a.Unassigned))
			}
		})
	}
}

func TestAssignmentIsEvenInExpectation(t *testing.T) {
	// given three qualified agencies, when 300 batches are assigned, then each gets about a third:
	// 100 ± 30 is ± 3.7 standard deviations of Binomial(300, 1/3)
	_, a := assign(t, batchesOf("大米", 300), planning.AssignmentRules{OutsideCity: true})
	got := map[string]int{}
	for _, b := range a.Assigned {
		got[b.Agency]++
	}
	for _, id := range []string{"ha-qi", "ha-food", "js-steel"} {
		if got[id] < 70 || got[id] > 130 {
			t.Errorf("%s got %d of 300 batches (%v)", id, got[id], got)
		}
	}
}

func TestVerifyAssignment(t *testing.T) {
	batches := append(batchesOf("大米", 20), batchesOf("轴承钢", 2)...)
	c, a := assign(t, batches, planning.AssignmentRules{})
	tests := []struct {
		name  string
		alter func(*planning.VerifyAssignmentInput)
		want  planning.CheckName
	}{
		{"unaltered", func(*planning.VerifyAssignmentInput) {}, ""},
		{"a batch given to another agency", func(v *planning.VerifyAssignmentInput) {
			v.Assignment.Assigned = slices.Clone(v.Assignment.Assigned)
			if v.Assignment.Assigned[0].Agency == "ha-qi" {
				v.Assignment.Assigned[0].Agency = "ha-food"
			} else {
				v.Assignment.Assigned[0].Agency = "ha-qi"
			}
		}, planning.CheckAssigned},
		{"outside agencies let in", func(v *planning.VerifyAssignmentInput) { v.Assignment.Rules.OutsideCity = true }, planning.CheckRulesSHA256},
		{"the registry", func(v *planning.VerifyAssignmentInput) {
			v.AgenciesCSV = append(slices.Clone(v.AgenciesCSV), "zz,大米,true\n"...)
		}, planning.CheckAgenciesSHA256},
		{"the seed", func(v *planning.VerifyAssignmentInput) { v.Assignment.Seed = seed(8).String() }, planning.CheckCommitment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a drawn assignment, when a part is altered, then verification names it
			v := planning.VerifyAssignmentInput{Assignment: a, BatchesCSV: c.BatchesCSV, AgenciesCSV: c.AgenciesCSV}
			tt.alter(&v)
			got := planning.VerifyAssignment(v)
			if tt.want == "" {
				if err := got.Err(); err != nil {
					t.Fatal(err)
				}
				if len(a.Unassigned) != 2 {
					t.Errorf("unassigned %v, want the two 轴承钢 batches (no agency in the city)", a.Unassigned)
				}
				return
			}
			if f := got.Failed(); len(f) == 0 || f[0].Name != tt.want {
				t.Errorf("failed checks %v, want %s first", f, tt.want)
			}
		})
	}
}
