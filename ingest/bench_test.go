package ingest

import (
	"bufio"
	"os"
	"testing"

	"github.com/qcredit/qcredit/model"
)

func BenchmarkDecode(b *testing.B) {
	f, err := os.Open("/tmp/gen/1m.jsonl")
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines [][]byte
	for sc.Scan() && len(lines) < 100000 {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Decoder{}.Decode(lines[i%len(lines)], model.Origin{})
	}
}
