package clickhouse_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// BenchmarkWrite1M stores 1,000,000 fixture events (with their resends,
// conflicts and broken lines) through Store.Write in batches of 50,000, the
// importer's default, into a fresh database, then counts them once:
//
//	QCREDIT_TEST_CLICKHOUSE=clickhouse://127.0.0.1:19000 go test -run - -bench Write1M -benchtime 1x ./warehouse/clickhouse
func BenchmarkWrite1M(b *testing.B) {
	const total, batchSize = 1_000_000, 50_000
	batches := fixtureBatches(total, batchSize)
	var stored int
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		s := openTest(b)
		b.StartTimer()
		start := time.Now()
		var res warehouse.WriteResult
		for _, batch := range batches {
			r, err := s.Write(b.Context(), batch)
			if err != nil {
				b.Fatal(err)
			}
			res = res.Add(r)
		}
		elapsed += time.Since(start)
		stored += res.Stored
		b.StopTimer()
		countStart := time.Now()
		st, err := s.Stats(b.Context())
		if err != nil || st.Events.Total != int64(res.Stored) {
			b.Fatalf("stats %+v, %v; stored %d", st.Events.Total, err, res.Stored)
		}
		b.Logf("wrote %+v in %v; Stats (FINAL) took %v", res, time.Since(start)-time.Since(countStart), time.Since(countStart))
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)*float64(b.N)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(float64(stored)/elapsed.Seconds(), "stored/s")
}

// fixtureBatches decodes fixture lines into warehouse batches, as the
// importer would hand them over.
func fixtureBatches(n, size int) []warehouse.Batch {
	var out []warehouse.Batch
	var cur warehouse.Batch
	for i, line := range fixtureLines(n, 42) {
		it, dl := ingest.Decoder{}.Decode(line, model.Origin{Kind: "file", Name: "bench.jsonl", Position: strconv.Itoa(i + 1)})
		if dl != nil {
			cur.DeadLetters = append(cur.DeadLetters, *dl)
		} else {
			cur.Items = append(cur.Items, it)
		}
		if len(cur.Items)+len(cur.DeadLetters) == size {
			out = append(out, cur)
			cur = warehouse.Batch{}
		}
	}
	if len(cur.Items)+len(cur.DeadLetters) > 0 {
		out = append(out, cur)
	}
	return out
}
