package export

import (
	"bytes"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

func TestArrowStream(t *testing.T) {
	// given typed columns, schema metadata and more rows than one record batch, when written as Arrow and read
	// back as an IPC stream, then the schema carries the metadata and the types, and every row's values come
	// back in order, across batches
	cols := []Column{{Key: "key", Zh: "键"}, {Key: "events", Kind: KindStrings}, {Key: "estimated", Kind: KindBool},
		{Key: "n", Kind: KindInt}, {Key: "note"}}
	var b bytes.Buffer
	w, err := NewArrowWriter(&b, cols, map[string]string{"qcredit.version": "7", "qcredit.manifest.sha256": "ab"})
	if err != nil {
		t.Fatal(err)
	}
	n := ArrowBatchRows + 3
	for i := range n {
		var note any = "备注"
		if i%2 == 1 {
			note = nil
		}
		if err := w.Row(string(rune('a'+i%26)), []string{"e1", "e2"}[:i%3%2+1], i%2 == 0, int64(i), note); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	md := r.Schema().Metadata()
	if v, _ := md.GetValue("qcredit.version"); v != "7" || !arrow.TypeEqual(r.Schema().Field(1).Type, arrow.ListOf(arrow.BinaryTypes.String)) {
		t.Errorf("schema %s", r.Schema())
	}
	row := 0
	for r.Next() {
		rec := r.RecordBatch()
		keys, events := rec.Column(0).(*array.String), rec.Column(1).(*array.List)
		est, num, notes := rec.Column(2).(*array.Boolean), rec.Column(3).(*array.Int64), rec.Column(4).(*array.String)
		vals := events.ListValues().(*array.String)
		for i := range int(rec.NumRows()) {
			lo, hi := events.ValueOffsets(i)
			var ev []string
			for j := lo; j < hi; j++ {
				ev = append(ev, vals.Value(int(j)))
			}
			want := []string{"e1", "e2"}[:row%3%2+1]
			if keys.Value(i) != string(rune('a'+row%26)) || !slices.Equal(ev, want) || est.Value(i) != (row%2 == 0) ||
				num.Value(i) != int64(row) || notes.IsNull(i) != (row%2 == 1) {
				t.Fatalf("row %d: %s %v %v %d", row, keys.Value(i), ev, est.Value(i), num.Value(i))
			}
			row++
		}
	}
	if r.Err() != nil || row != n {
		t.Errorf("read %d rows of %d: %v", row, n, r.Err())
	}
}

func TestArrowRefusesAValueOfTheWrongKind(t *testing.T) {
	// given a list column, when a row gives it a string, then Row fails and Close reports it
	var b bytes.Buffer
	w, err := NewArrowWriter(&b, []Column{{Key: "events", Kind: KindStrings}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Row("e1"); err == nil {
		t.Fatal("a string was written to a list column")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed row reported nothing")
	}
}
