package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// text is a value as a CSV cell.
func text(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case Decimal:
		return string(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.Format(time.RFC3339), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String:
		return r.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(r.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(r.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(r.Float(), 'f', -1, 64), nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// csvEncoder writes RFC 4180 CSV: records end in CRLF, a cell with a
// quote, comma, CR, LF or a leading space is quoted, and a cell's text is
// written as it is, CR and LF included. encoding/csv's Writer is not used:
// with UseCRLF it drops a lone CR inside a cell and turns LF into CRLF, so
// the cell read back is not the one written.
type csvEncoder struct {
	w    *bufio.Writer
	cell []string
}

// bom is the UTF-8 byte-order mark: without it Excel reads a CSV file in the
// machine's ANSI code page and shows Chinese as mojibake.
const bom = "\uFEFF"

func newCSV(w io.Writer, cols []Column) (*csvEncoder, error) {
	e := &csvEncoder{w: bufio.NewWriterSize(w, 32<<10), cell: make([]string, len(cols))}
	e.w.WriteString(bom)
	for i, c := range cols {
		e.cell[i] = c.Header()
	}
	return e, e.write()
}

func (e *csvEncoder) row(values []any) error {
	for i, v := range values {
		s, err := text(v)
		if err != nil {
			return fmt.Errorf("export: column %d: %w", i+1, err)
		}
		e.cell[i] = csvCell(s)
	}
	return e.write()
}

// csvCell is the cell's text as written: a leading apostrophe on text a
// spreadsheet would run as a formula, and on text that already starts with
// one, so a reader gets the text back exactly by dropping one leading
// apostrophe wherever there is one.
func csvCell(s string) string {
	if isFormula(s) || strings.HasPrefix(s, "'") {
		return "'" + s
	}
	return s
}

func (e *csvEncoder) write() error {
	for i, s := range e.cell {
		if i > 0 {
			e.w.WriteByte(',')
		}
		if first, _ := utf8.DecodeRuneInString(s); s == "" || (!strings.ContainsAny(s, "\",\r\n") && !unicode.IsSpace(first)) {
			e.w.WriteString(s)
			continue
		}
		e.w.WriteByte('"')
		e.w.WriteString(strings.ReplaceAll(s, `"`, `""`))
		e.w.WriteByte('"')
	}
	if _, err := e.w.WriteString("\r\n"); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if e.w.Buffered() > 16<<10 {
		return e.w.Flush()
	}
	return nil
}

func (e *csvEncoder) abort() {}

func (e *csvEncoder) close() error {
	return e.w.Flush()
}

// isFormula says a spreadsheet would evaluate the cell text as a formula
// (a number such as -5 is only a number).
func isFormula(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		_, err := strconv.ParseFloat(s, 64)
		return err != nil
	}
	return false
}

type jsonEncoder struct {
	w     *bufio.Writer
	keys  [][]byte // `"key":` per column
	array bool
	n     int
}

func newJSON(w io.Writer, cols []Column, array bool) *jsonEncoder {
	e := &jsonEncoder{w: bufio.NewWriterSize(w, 32<<10), array: array}
	for _, c := range cols {
		k, _ := json.Marshal(c.Key)
		e.keys = append(e.keys, append(k, ':'))
	}
	return e
}

func (e *jsonEncoder) row(values []any) error {
	switch {
	case e.array && e.n == 0:
		e.w.WriteByte('[')
	case e.array:
		e.w.WriteByte(',')
	}
	e.w.WriteByte('{')
	for i, v := range values {
		if i > 0 {
			e.w.WriteByte(',')
		}
		e.w.Write(e.keys[i])
		var (
			b   []byte
			err error
		)
		if d, ok := v.(Decimal); ok {
			b, err = decimalJSON(d)
		} else {
			b, err = json.Marshal(v)
		}
		if err != nil {
			return fmt.Errorf("export: column %d: %w", i+1, err)
		}
		e.w.Write(b)
	}
	e.w.WriteByte('}')
	if !e.array {
		e.w.WriteByte('\n')
	}
	e.n++
	if e.w.Buffered() > 16<<10 {
		return e.w.Flush()
	}
	return nil
}

func (e *jsonEncoder) abort() {}

func (e *jsonEncoder) close() error {
	if e.array {
		if e.n == 0 {
			e.w.WriteByte('[')
		}
		e.w.WriteString("]\n")
	}
	return e.w.Flush()
}

// decimalJSON is d as a JSON number, checked: a Decimal that is not a
// number would make invalid JSON.
func decimalJSON(d Decimal) ([]byte, error) {
	if d == "" {
		return []byte("null"), nil
	}
	if !json.Valid([]byte(d)) {
		return nil, fmt.Errorf("decimal %q is not a number", string(d))
	}
	if _, err := strconv.ParseFloat(string(d), 64); err != nil {
		return nil, fmt.Errorf("decimal %q is not a number", string(d))
	}
	return []byte(d), nil
}
