package serving

import (
	"fmt"
	"testing"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
)

// benchEntries are n listed entries as a big city's dishonest list has them.
func benchEntries(n int) []model.ListEntry {
	out := make([]model.ListEntry, n)
	for i := range out {
		u := model.CompleteUSCC(fmt.Sprintf("913208%010d", i))
		no := fmt.Sprintf("盱市监罚〔2025〕%d号", i)
		out[i] = model.ListEntry{Key: lists.DishonestKey(u, "serious.heavy_penalty", no), USCC: u, Name: fmt.Sprintf("淮安市第%d食品有限公司", i),
			List: model.ListDishonest, Rule: "serious.heavy_penalty", State: model.ListStateListed,
			Reason:    "2025年3月3日因生产、销售假冒产品被盱眙县市场监督管理局处以较重行政处罚（" + no + "）",
			Basis:     "《市场监督管理严重违法失信名单管理办法》（总局令第44号）第七条：质量安全领域违法行为受到较重行政处罚",
			Authority: "盱眙县市场监督管理局", AuthorityCode: "320830", Events: []string{fmt.Sprintf("bench-p%d", i)}, ListedAt: "2025-03-11",
			ExpiresAt: "2028-03-11", RepairPossibleFrom: "2026-03-11", NoticeEnds: "2025-03-10", TriggeredAt: "2025-03-03",
			Measures: []string{"focus_supervision", "restricted_procurement", "restricted_bidding", "no_promise_approval", "no_honours"}}
	}
	return out
}

// BenchmarkLoadHistory100k is the read model's load of a 100,000-entry
// version: parsing the stored entries and building the history.
func BenchmarkLoadHistory100k(b *testing.B) {
	entries := benchEntries(100_000)
	lines := make([][]byte, len(entries))
	for i := range entries {
		l := entries[i].AppendCanonical(nil)
		lines[i] = l[:len(l)-1]
	}
	v := model.ListVersion{List: model.ListDishonest, Number: 1, Manifest: model.NewListManifest(entries)}
	b.ReportAllocs()
	for b.Loop() {
		parsed := make([]model.ListEntry, len(lines))
		for i, l := range lines {
			e, err := model.ParseListEntry(l)
			if err != nil {
				b.Fatal(err)
			}
			parsed[i] = e
		}
		hb := newHistoryBuilder(model.ListDishonest)
		hb.base(v, parsed)
		if _, err := hb.finish(); err != nil {
			b.Fatal(err)
		}
	}
}
