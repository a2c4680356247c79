package clusters_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/model"
)

// bigCity is a synthetic input of the scale: a million enterprises
// in 8 counties × 30 divisions, 1.5 million checks in the window (a
// simulated city has about 1.1 per manufacturer a year), and the other records.
func bigCity() *clusters.Input {
	r := rand.New(rand.NewPCG(7, 7))
	counties := []string{"320803", "320804", "320812", "320813", "320826", "320830", "320831", "320871"}
	in := &clusters.Input{AsOf: asOf}
	in.Enterprises = make([]clusters.Enterprise, 1_000_000)
	for i := range in.Enterprises {
		county, div := counties[r.IntN(len(counties))], fmt.Sprintf("C%d", 13+r.IntN(30))
		in.Enterprises[i] = clusters.Enterprise{USCC: model.CompleteUSCC(fmt.Sprintf("91%s%08d", county, i)),
			Name: "企业", Cluster: county + "-" + div, County: county, Division: div, Grade: model.Grades[r.IntN(4)]}
	}
	when := func() time.Time { return cutoff.Add(-time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))) }
	who := func() model.USCC { return in.Enterprises[r.IntN(len(in.Enterprises))].USCC }
	in.Checks = make([]clusters.Check, 1_500_000)
	for i := range in.Checks {
		in.Checks[i] = clusters.Check{EventID: fmt.Sprintf("320800-%d", i), USCC: who(), OccurredAt: when(),
			Failed: r.Float64() < 0.08, Product: "产品"}
	}
	for i := range 200_000 {
		in.Penalties = append(in.Penalties, clusters.Record{EventID: fmt.Sprintf("p-%d", i), USCC: who(), OccurredAt: when()})
	}
	for i := range 2_000 {
		in.Accidents = append(in.Accidents, clusters.Accident{EventID: fmt.Sprintf("a-%d", i), USCC: who(), OccurredAt: when(),
			Grade: model.AccidentGradeGeneral})
	}
	return in
}

func BenchmarkCompute(b *testing.B) {
	cfg, err := clusters.Default()
	if err != nil {
		b.Fatal(err)
	}
	in := bigCity()
	b.ResetTimer()
	for b.Loop() {
		if _, err := cfg.Compute(in); err != nil {
			b.Fatal(err)
		}
	}
}
