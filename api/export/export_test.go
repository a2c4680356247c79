package export

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/qcredit/qcredit/model"
)

var cols = []Column{
	{Key: "uscc", Zh: "统一社会信用代码", En: "USCC"},
	{Key: "name", Zh: "企业名称", En: "Name"},
	{Key: "score", Zh: "信用分", En: "Score"},
	{Key: "grade", Zh: "等级", En: "Grade"},
	{Key: "events", En: "Events"},
	{Key: "at", Zh: "时间"},
	{Key: "note"},
}

var at = time.Date(2025, 6, 30, 8, 0, 0, 0, model.Shanghai)

// rows holds the cases a spreadsheet gets wrong: an all-digit USCC-like
// text, Chinese, a formula, a negative decimal, an empty cell.
var rows = [][]any{
	{model.USCC("91320812MA1AAA01X7"), "清江浦区润昌钢材有限公司", Decimal("87.5"), model.GradeB, 12, at, nil},
	{"913208120000000000", "=HYPERLINK(\"http://x\")", Decimal("-5"), model.GradeD, int64(-3), at, "@SUM(A1)"},
}

func write(t *testing.T, f Format) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewWriter(&b, f, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Row(r...); err != nil {
			t.Fatal(err)
		}
	}
	if w.Rows() != len(rows) {
		t.Errorf("Rows() = %d", w.Rows())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCSV(t *testing.T) {
	b := write(t, FormatCSV)
	if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("no UTF-8 BOM: % x", b[:3])
	}
	if !bytes.Contains(b, []byte("\r\n")) {
		t.Error("lines do not end in CRLF")
	}
	got, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"统一社会信用代码 (USCC)", "企业名称 (Name)", "信用分 (Score)", "等级 (Grade)", "Events", "时间", "note"},
		{"91320812MA1AAA01X7", "清江浦区润昌钢材有限公司", "87.5", "B", "12", "2025-06-30T08:00:00+08:00", ""},
		{"913208120000000000", "'=HYPERLINK(\"http://x\")", "-5", "D", "-3", "2025-06-30T08:00:00+08:00", "'@SUM(A1)"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines: %q", len(got), got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}
}

func TestXLSX(t *testing.T) {
	f, err := excelize.OpenReader(bytes.NewReader(write(t, FormatXLSX)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0][0] != "统一社会信用代码 (USCC)" || got[1][1] != "清江浦区润昌钢材有限公司" || got[2][1] != `=HYPERLINK("http://x")` {
		t.Fatalf("rows: %q", got)
	}
	// Given cells of each kind, then numbers are numbers, the all-digit
	// code stays text (not 9.13E+17) and the formula-like text is no formula.
	for cell, want := range map[string]excelize.CellType{
		"A3": excelize.CellTypeSharedString, "C2": excelize.CellTypeUnset, "C3": excelize.CellTypeUnset, "E3": excelize.CellTypeUnset,
	} {
		typ, err := f.GetCellType(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != want && !(want == excelize.CellTypeSharedString && typ == excelize.CellTypeInlineString) {
			t.Errorf("%s: type %v, want %v", cell, typ, want)
		}
	}
	if v, _ := f.GetCellValue(sheet, "C2"); v != "87.5" {
		t.Errorf("C2 = %q", v)
	}
	if v, _ := f.GetCellValue(sheet, "A3"); v != "913208120000000000" {
		t.Errorf("A3 = %q", v)
	}
	if formula, _ := f.GetCellFormula(sheet, "B3"); formula != "" {
		t.Errorf("B3 became a formula: %q", formula)
	}
}

func TestNDJSONAndJSON(t *testing.T) {
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(write(t, FormatNDJSON)))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	var arr []map[string]any
	if err := json.Unmarshal(write(t, FormatJSON), &arr); err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]map[string]any{lines, arr} {
		if len(got) != 2 || got[0]["uscc"] != "91320812MA1AAA01X7" || got[0]["score"] != 87.5 ||
			got[1]["score"] != -5.0 || got[0]["note"] != nil || got[0]["at"] != "2025-06-30T08:00:00+08:00" || got[1]["events"] != -3.0 {
			t.Errorf("got %v", got)
		}
	}
}

func TestEmptyTable(t *testing.T) {
	for _, f := range Formats {
		var b bytes.Buffer
		w, err := NewWriter(&b, f, cols)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		switch f {
		case FormatJSON:
			if b.String() != "[]\n" {
				t.Errorf("empty JSON: %q", b.String())
			}
		case FormatNDJSON:
			if b.Len() != 0 {
				t.Errorf("empty NDJSON: %q", b.String())
			}
		case FormatCSV:
			if !strings.HasSuffix(b.String(), "note\r\n") {
				t.Errorf("empty CSV: %q", b.String())
			}
		}
	}
}

func TestRowErrors(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, FormatJSON, cols)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Row("only one"); err == nil {
		t.Error("a short row was accepted")
	}
	if err := w.Row(rows[0][:6]...); err == nil {
		t.Error("a short row was accepted")
	}
	bad := append([]any{}, rows[0]...)
	bad[2] = Decimal("12abc")
	if err := w.Row(bad...); err == nil || w.Close() == nil {
		t.Error("a decimal that is no number was accepted")
	}
	if _, err := NewWriter(&b, FormatCSV, []Column{{Key: "a"}, {Key: "a"}}); err == nil {
		t.Error("repeated keys were accepted")
	}
	if _, err := ParseFormat("xls"); err == nil {
		t.Error("xls parsed")
	}
}

func TestXLSXRowLimit(t *testing.T) {
	// Given a sheet limit of 3 rows (the header and two), when a third row
	// is written, then Row fails with ErrTooManyRows and nothing reaches w.
	defer func(n int) { xlsxMaxRows = n }(xlsxMaxRows)
	xlsxMaxRows = 3
	var b bytes.Buffer
	w, err := NewWriter(&b, FormatXLSX, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Row(r...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Row(rows[0]...); !errors.Is(err, ErrTooManyRows) {
		t.Fatalf("third row: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrTooManyRows) || b.Len() != 0 {
		t.Errorf("close: %v, %d bytes written", err, b.Len())
	}
}

func TestCSVCellsComeBackExactly(t *testing.T) {
	// given cells with a lone CR, an LF, quotes, leading spaces, formulas and leading apostrophes, when written as
	// CSV and read back with encoding/csv, dropping one leading apostrophe wherever there is one, then every cell
	// is the text written, and records end in CRLF
	cells := []string{"a\rb", "a\nb", "end\r", `say "hi", then`, " lead", "\u3000全角", "=1+1", "-5", "-x", "'", "''", "'=x", "'plain",
		"@SUM(A1)", "\tTAB", "", "普通"}
	var b bytes.Buffer
	cols := make([]Column, len(cells))
	row := make([]any, len(cells))
	for i, c := range cells {
		cols[i], row[i] = Column{Key: fmt.Sprintf("c%d", i)}, c
	}
	w, err := NewWriter(&b, FormatCSV, cols)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Row(row...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) || bytes.Count(b.Bytes(), []byte("\r\n")) != 2 {
		t.Errorf("records do not end in CRLF (or a cell's CR became one): %q", b.Bytes())
	}
	got, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil || len(got) != 2 {
		t.Fatalf("read %q: %v", got, err)
	}
	for i, want := range cells {
		if v := strings.TrimPrefix(got[1][i], "'"); v != want {
			t.Errorf("cell %d: wrote %q, read back %q (as written %q)", i, want, v, got[1][i])
		}
	}
}
