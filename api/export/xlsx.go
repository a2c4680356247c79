package export

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxMaxRows is Excel's row limit per sheet.
var xlsxMaxRows = 1 << 20 // a variable for the test of the limit

type xlsxEncoder struct {
	out  io.Writer
	file *excelize.File
	sw   *excelize.StreamWriter
	next int // next row number (1-based)
	cell []any
}

const sheet = "Sheet1"

func newXLSX(w io.Writer, cols []Column) (*xlsxEncoder, error) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	e := &xlsxEncoder{out: w, file: f, sw: sw, next: 1, cell: make([]any, len(cols))}
	// Panes and widths must come before the first row.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, e.fail(err)
	}
	for i, c := range cols {
		if err := sw.SetColWidth(i+1, i+1, headerWidth(c.Header())); err != nil {
			return nil, e.fail(err)
		}
		e.cell[i] = excelize.Cell{StyleID: bold, Value: c.Header()}
	}
	if err := e.write(); err != nil {
		return nil, e.fail(err)
	}
	return e, nil
}

func (e *xlsxEncoder) fail(err error) error {
	e.file.Close()
	return fmt.Errorf("export: xlsx: %w", err)
}

// headerWidth is a column width (in characters) that shows the header:
// CJK characters take two.
func headerWidth(h string) float64 {
	w := 0.0
	for _, r := range h {
		if r > 0x2E80 {
			w += 2
		} else {
			w++
		}
	}
	return min(max(w+2, 10), 60)
}

func (e *xlsxEncoder) write() error {
	if e.next > xlsxMaxRows {
		return ErrTooManyRows
	}
	cell, err := excelize.CoordinatesToCellName(1, e.next)
	if err != nil {
		return err
	}
	if err := e.sw.SetRow(cell, e.cell); err != nil {
		return err
	}
	e.next++
	return nil
}

func (e *xlsxEncoder) row(values []any) error {
	for i, v := range values {
		c, err := xlsxValue(v)
		if err != nil {
			return fmt.Errorf("export: column %d: %w", i+1, err)
		}
		e.cell[i] = c
	}
	if err := e.write(); err != nil {
		if err == ErrTooManyRows {
			return err
		}
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}

// xlsxValue is v as a cell value excelize writes with the right type:
// numbers as numbers, everything else as text (never a formula: excelize
// writes strings as strings).
func xlsxValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string, bool:
		return x, nil
	case Decimal:
		if x == "" {
			return nil, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("decimal %q is not a number", string(x))
		}
		return f, nil
	case time.Time:
		return x.Format(time.RFC3339), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return r.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return r.Float(), nil
	}
	return text(v)
}

// abort drops the workbook: nothing was written to out, so an HTTP handler
// can still answer with an error.
func (e *xlsxEncoder) abort() { e.file.Close() }

// close writes the workbook. The same rows give the same bytes (a list
// version is served under a strong ETag): excelize stamps no time (its
// document properties carry fixed dates, its zip entries none).
func (e *xlsxEncoder) close() error {
	defer e.file.Close()
	if err := e.sw.Flush(); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if err := e.file.Write(e.out); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}
