package export

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FormatArrow is an Apache Arrow IPC stream (what pyarrow.ipc.open_stream
// reads): the schema with its metadata, then record batches of
// ArrowBatchRows rows. It takes typed columns (Column.Kind) and schema
// metadata, so it is made by NewArrowWriter and is not among Formats.
const FormatArrow Format = "arrow"

// ArrowContentType is the Arrow IPC stream's media type.
const ArrowContentType = "application/vnd.apache.arrow.stream"

// ArrowBatchRows is the rows per record batch.
const ArrowBatchRows = 16384

// Kind is a column's Arrow type; the other formats write every kind as text.
type Kind int

const (
	KindText    Kind = iota // utf8; any value, as its CSV text
	KindStrings             // list<utf8>: a []string
	KindBool                // bool
	KindInt                 // int64: any integer
)

// NewArrowWriter starts an Arrow IPC stream on w whose fields are the
// columns' keys, typed by their Kind, with meta as the schema's metadata.
func NewArrowWriter(w io.Writer, cols []Column, meta map[string]string) (*Writer, error) {
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Key, Type: c.Kind.arrowType(), Nullable: c.Kind == KindText}
	}
	// Sorted keys: the same metadata must be the same bytes (a snapshot's
	// body is served under a strong ETag), and a map's order is random.
	keys := slices.Sorted(maps.Keys(meta))
	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = meta[k]
	}
	md := arrow.NewMetadata(keys, values)
	schema := arrow.NewSchema(fields, &md)
	e := &arrowEncoder{cols: cols, b: array.NewRecordBuilder(memory.DefaultAllocator, schema),
		w: ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))}
	return &Writer{enc: e, cols: cols}, nil
}

func (k Kind) arrowType() arrow.DataType {
	switch k {
	case KindStrings:
		return arrow.ListOf(arrow.BinaryTypes.String)
	case KindBool:
		return arrow.FixedWidthTypes.Boolean
	case KindInt:
		return arrow.PrimitiveTypes.Int64
	}
	return arrow.BinaryTypes.String
}

type arrowEncoder struct {
	cols []Column
	b    *array.RecordBuilder
	w    *ipc.Writer
	rows int
}

func (e *arrowEncoder) row(values []any) error {
	for i, v := range values {
		if err := e.append(i, v); err != nil {
			return fmt.Errorf("export: arrow column %s: %w", e.cols[i].Key, err)
		}
	}
	if e.rows++; e.rows == ArrowBatchRows {
		return e.flush()
	}
	return nil
}

func (e *arrowEncoder) append(i int, v any) error {
	switch e.cols[i].Kind {
	case KindStrings:
		xs, ok := v.([]string)
		if !ok {
			return fmt.Errorf("%T is not a []string", v)
		}
		lb := e.b.Field(i).(*array.ListBuilder)
		lb.Append(true)
		sb := lb.ValueBuilder().(*array.StringBuilder)
		for _, x := range xs {
			sb.Append(x)
		}
	case KindBool:
		x, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%T is not a bool", v)
		}
		e.b.Field(i).(*array.BooleanBuilder).Append(x)
	case KindInt:
		switch x := v.(type) {
		case int:
			e.b.Field(i).(*array.Int64Builder).Append(int64(x))
		case int64:
			e.b.Field(i).(*array.Int64Builder).Append(x)
		default:
			return fmt.Errorf("%T is not an int or int64", v)
		}
	default:
		sb := e.b.Field(i).(*array.StringBuilder)
		if v == nil {
			sb.AppendNull()
			return nil
		}
		if s, ok := v.(string); ok { // the common case, without text's reflection
			sb.Append(s)
			return nil
		}
		s, err := text(v)
		if err != nil {
			return err
		}
		sb.Append(s)
	}
	return nil
}

// flush writes the rows built so far as one record batch.
func (e *arrowEncoder) flush() error {
	rec := e.b.NewRecordBatch()
	defer rec.Release()
	e.rows = 0
	if err := e.w.Write(rec); err != nil {
		return fmt.Errorf("export: arrow: %w", err)
	}
	return nil
}

func (e *arrowEncoder) close() error {
	defer e.b.Release()
	if e.rows > 0 {
		if err := e.flush(); err != nil {
			return err
		}
	}
	if err := e.w.Close(); err != nil {
		return fmt.Errorf("export: arrow: %w", err)
	}
	return nil
}

func (e *arrowEncoder) abort() { e.b.Release() }
