package lists_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

// BenchmarkEvaluateCity is the cost the score job adds per firm: one
// Evaluate for each firm of a simulated city, most with no listing record.
func BenchmarkEvaluateCity(b *testing.B) {
	r := defaultRules(b)
	c := simulateCity(b, simulate.Config{Enterprises: 3000, Years: 3, Seed: 1,
		End: time.Date(2026, 6, 30, 0, 0, 0, 0, model.Shanghai)})
	firms := make([]lists.FirmRecords, 0, len(c.firms))
	for _, f := range c.firms {
		firms = append(firms, *f)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range firms {
			if _, err := r.Evaluate(f, c.end); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(firms)), "ns/firm")
}

// BenchmarkManifest100k is publishing's cost for a 100,000-entry snapshot:
// the canonical NDJSON and its SHA-256.
func BenchmarkManifest100k(b *testing.B) {
	entries := make([]model.ListEntry, 100000)
	for i := range entries {
		uscc := model.CompleteUSCC(fmt.Sprintf("913208%010d", i))
		entries[i] = model.ListEntry{Key: lists.DishonestKey(uscc, "serious.heavy_penalty", fmt.Sprintf("淮市监罚2025-%d", i)),
			USCC: uscc, Name: "淮安某某有限公司", List: model.ListDishonest, Rule: "serious.heavy_penalty", State: model.ListStateListed,
			Reason: "2025年3月3日因生产、销售假冒产品被盱眙县市场监督管理局处以较重行政处罚", Basis: "总局令第44号第七条",
			Authority: "盱眙县市场监督管理局", AuthorityCode: "320830", Events: []string{"320830-1"}, ListedAt: "2025-03-11",
			ExpiresAt: "2028-03-11", RepairPossibleFrom: "2026-03-11", Measures: []string{"focus_supervision", "no_honours"}}
	}
	b.ReportAllocs()
	for b.Loop() {
		model.NewListManifest(entries)
	}
}
