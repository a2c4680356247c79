// Package export writes a table — columns with Chinese and English headers,
// then rows — to an io.Writer in one of four formats, row by row:
//
//   - CSV: UTF-8 with a byte-order mark (so Excel opens Chinese correctly),
//     CRLF record ends, one header row "中文 (English)", each cell's text as it
//     is (quoted when it holds a quote, comma, CR or LF). Text cells that a
//     spreadsheet would run as a formula (starting with = + - @ TAB CR) get a
//     leading apostrophe (OWASP's CSV-injection advice), and so do cells that
//     start with one: dropping one leading apostrophe gives the text back.
//   - XLSX: one sheet written through excelize's StreamWriter, which spills
//     rows to a temporary file past 16 MB, so a table is never held in memory
//     whole; the workbook is written to w by Close. At most 1,048,575 rows
//     (Excel's limit, less the header): Row returns ErrTooManyRows past it.
//   - NDJSON: one JSON object per row keyed by Column.Key, LF-terminated.
//   - JSON: one array of those objects.
//   - Arrow (NewArrowWriter): an IPC stream of typed columns with schema
//     metadata, in record batches.
//
// Usage:
//
//	t, err := export.NewWriter(w, export.FormatCSV, []export.Column{
//		{Key: "uscc", Zh: "统一社会信用代码", En: "USCC"},
//		{Key: "score", Zh: "信用分", En: "Score"},
//	})
//	for _, s := range scores {
//		if err := t.Row(s.USCC, export.Decimal(s.Score.String())); err != nil { … }
//	}
//	err = t.Close() // flushes; XLSX writes the workbook here
//
// Values, in column order: string kinds, bool, integers, floats, time.Time
// (RFC 3339 text in every format), Decimal (a number kept exactly as its text:
// a number in XLSX and JSON), nil (an empty cell, JSON null), fmt.Stringer
// (its String), anything else as its JSON encoding. A row with the wrong
// number of values is an error. Writing stops at the first error. CSV, JSON
// and NDJSON reach w as they go (buffered in small pieces), so an HTTP
// handler can only end the body early once rows went out: check what can
// fail before the first Row. XLSX writes nothing to w before Close.
package export

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format is an export format.
type Format string

// The formats.
const (
	FormatJSON   Format = "json"
	FormatNDJSON Format = "ndjson"
	FormatCSV    Format = "csv"
	FormatXLSX   Format = "xlsx"
)

// Formats are every format, in the order documentation lists them.
var Formats = []Format{FormatJSON, FormatNDJSON, FormatCSV, FormatXLSX}

// ParseFormat reads a format name (as in ?format=); "" is JSON.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return FormatJSON, nil
	}
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("format %q is not one of json, ndjson, csv, xlsx", s)
}

// ContentType is the format's media type.
func (f Format) ContentType() string {
	switch f {
	case FormatCSV:
		return "text/csv; charset=utf-8"
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatNDJSON:
		return "application/x-ndjson"
	default:
		return "application/json; charset=utf-8"
	}
}

// Attachment is a Content-Disposition value naming the download
// name.<format> (name in ASCII, e.g. "scores-2025-06-30").
func (f Format) Attachment(name string) string {
	return fmt.Sprintf(`attachment; filename="%s.%s"`, strings.ReplaceAll(name, `"`, ""), f)
}

// Column is one column of a table.
type Column struct {
	Key string // field name in JSON, NDJSON and Arrow: stable, snake_case
	Zh  string // Chinese header (统一社会信用代码)
	En  string // English header (USCC)
	// Kind types the column in Arrow (text by default); other formats write
	// every kind as text, a []string as its JSON array.
	Kind Kind
}

// Header is the column's header cell in CSV and XLSX: "Zh (En)", or the one
// of them that is set, or Key.
func (c Column) Header() string {
	switch {
	case c.Zh != "" && c.En != "":
		return c.Zh + " (" + c.En + ")"
	case c.Zh != "":
		return c.Zh
	case c.En != "":
		return c.En
	}
	return c.Key
}

// Decimal is a number written as its exact decimal text ("87.5"): a number
// in XLSX and JSON, the text itself in CSV.
type Decimal string

// ErrTooManyRows is returned by Row past the XLSX sheet's row limit.
var ErrTooManyRows = errors.New("more rows than one XLSX sheet holds (1,048,575); export as CSV")

// Writer writes one table. It is not safe for concurrent use.
type Writer struct {
	enc  encoder
	cols []Column
	rows int
	err  error
}

type encoder interface {
	row(values []any) error
	close() error
	abort()
}

// NewWriter starts a table in format f on w with the given columns (at
// least one, keys unique). CSV and XLSX write the header row first.
func NewWriter(w io.Writer, f Format, cols []Column) (*Writer, error) {
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	var (
		enc encoder
		err error
	)
	switch f {
	case FormatCSV:
		enc, err = newCSV(w, cols)
	case FormatXLSX:
		enc, err = newXLSX(w, cols)
	case FormatNDJSON:
		enc = newJSON(w, cols, false)
	case FormatJSON:
		enc = newJSON(w, cols, true)
	default:
		return nil, fmt.Errorf("export: unknown format %q", f)
	}
	if err != nil {
		return nil, err
	}
	return &Writer{enc: enc, cols: cols}, nil
}

func checkColumns(cols []Column) error {
	if len(cols) == 0 {
		return errors.New("export: no columns")
	}
	seen := make(map[string]bool, len(cols))
	for _, c := range cols {
		if c.Key == "" || seen[c.Key] {
			return fmt.Errorf("export: column key %q is empty or repeated", c.Key)
		}
		seen[c.Key] = true
	}
	return nil
}

// Row writes one row, values in column order.
func (t *Writer) Row(values ...any) error {
	if t.err != nil {
		return t.err
	}
	if len(values) != len(t.cols) {
		return fmt.Errorf("export: row has %d values for %d columns", len(values), len(t.cols))
	}
	if t.err = t.enc.row(values); t.err == nil {
		t.rows++
	}
	return t.err
}

// Rows is the number of rows written so far.
func (t *Writer) Rows() int { return t.rows }

// Close ends the table and flushes it to w (XLSX writes the whole
// workbook here). After a failed Row it writes nothing more and returns
// that error: an XLSX export has then written nothing to w at all. It does
// not close w.
func (t *Writer) Close() error {
	if t.err != nil {
		t.enc.abort()
		return t.err
	}
	t.err = t.enc.close()
	return t.err
}
