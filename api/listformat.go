package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
)

// listFormat is how a list or its changes are served: the partner's choice
// of format and, for tables, the header language.
type listFormat struct {
	format  export.Format // json, ndjson, csv, xlsx or export.FormatArrow
	english bool
}

// parseListFormat reads ?format= and ?lang=.
func parseListFormat(c *gin.Context) (listFormat, error) {
	var f listFormat
	switch v := c.Query("format"); v {
	case "", "json":
		f.format = export.FormatJSON
	case "ndjson", "csv", "xlsx":
		f.format = export.Format(v)
	case "arrow":
		f.format = export.FormatArrow
	default:
		return f, fmt.Errorf("format %q is not one of json, ndjson, csv, xlsx, arrow", v)
	}
	switch v := c.Query("lang"); v {
	case "", "zh":
	case "en":
		f.english = true
	default:
		return f, fmt.Errorf("lang %q is not zh (Chinese headers, the default) or en", v)
	}
	return f, nil
}

func (f listFormat) contentType() string {
	if f.format == export.FormatArrow {
		return export.ArrowContentType
	}
	return f.format.ContentType()
}

// tag names the representation in ETags: the format, and the language of
// a table's headers.
func (f listFormat) tag() string {
	if f.english && (f.format == export.FormatCSV || f.format == export.FormatXLSX) {
		return string(f.format) + "-en"
	}
	return string(f.format)
}

// entryColumns are the table columns of a list entry, with the Chinese
// names of credit-list exchange (列入原因, 作出决定机关, 移出原因 …).
var entryColumns = []export.Column{
	{Key: "key", Zh: "条目标识", En: "Key"},
	{Key: "uscc", Zh: "统一社会信用代码", En: "USCC"},
	{Key: "name", Zh: "企业名称", En: "Name"},
	{Key: "list", Zh: "名单", En: "List"},
	{Key: "state", Zh: "状态", En: "State"},
	{Key: "rule", Zh: "列入规则", En: "Rule"},
	{Key: "reason", Zh: "列入原因", En: "Reason"},
	{Key: "basis", Zh: "列入依据", En: "Legal basis"},
	{Key: "authority", Zh: "作出决定机关", En: "Deciding authority"},
	{Key: "authority_code", Zh: "作出决定机关代码", En: "Deciding authority code"},
	{Key: "triggered_at", Zh: "违法事实认定日期", En: "Triggered on"},
	{Key: "notice_ends", Zh: "告知期截止日期", En: "Notice ends"},
	{Key: "listed_at", Zh: "列入日期", En: "Listed on"},
	{Key: "expires_at", Zh: "届满移出日期", En: "Expires on"},
	{Key: "repair_possible_from", Zh: "可申请信用修复日期", En: "Repair possible from"},
	{Key: "measures", Zh: "惩戒措施", En: "Measures", Kind: export.KindStrings},
	{Key: "events", Zh: "来源记录", En: "Source events", Kind: export.KindStrings},
	{Key: "dates_estimated", Zh: "日期为估算", En: "Dates estimated", Kind: export.KindBool},
	{Key: "removed_reason", Zh: "移出原因", En: "Removal reason"},
	{Key: "removed_at", Zh: "移出日期", En: "Removed on"},
	{Key: "removed_by", Zh: "移出机关", En: "Removed by"},
	{Key: "removed_by_code", Zh: "移出机关代码", En: "Removed by (code)"},
}

// opColumn leads the table of changes.
var opColumn = export.Column{Key: "op", Zh: "变更类型", En: "Op"}

// tableColumns are cols with headers in one language: Chinese unless english.
func tableColumns(cols []export.Column, english bool) []export.Column {
	out := make([]export.Column, len(cols))
	for i, c := range cols {
		if english {
			c.Zh = ""
		} else {
			c.En = ""
		}
		out[i] = c
	}
	return out
}

// entryRow is an entry's cells in entryColumns order.
func entryRow(dst []any, e *model.ListEntry) []any {
	events := e.Events
	if events == nil {
		events = []string{}
	}
	measures := e.Measures
	if measures == nil {
		measures = []string{}
	}
	return append(dst, e.Key, string(e.USCC), e.Name, string(e.List), string(e.State), e.Rule, e.Reason, e.Basis,
		e.Authority, e.AuthorityCode, e.TriggeredAt, e.NoticeEnds, e.ListedAt, e.ExpiresAt, e.RepairPossibleFrom,
		measures, events, e.DatesEstimated, string(e.RemovedReason), e.RemovedAt, e.RemovedBy, e.RemovedByCode)
}

// listHeader is what every representation of a snapshot or of changes
// says about the version it leads to.
type listHeader struct {
	List        model.List         `json:"list"`
	Version     int64              `json:"version"`
	PublishedAt time.Time          `json:"published_at"`
	Manifest    model.ListManifest `json:"manifest"`
	From        int64              `json:"-"` // changes: the version they start from
	// A page of a JSON snapshot: the version's entries, and the page's
	// place among them (nil for the whole version).
	Total  *int `json:"total,omitempty"`
	Offset *int `json:"offset,omitempty"`
	Limit  *int `json:"limit,omitempty"`
}

// arrowMeta is the header as an Arrow stream's schema metadata.
func (h listHeader) arrowMeta(changes bool) map[string]string {
	m := map[string]string{
		"qcredit.list":            string(h.List),
		"qcredit.version":         strconv.FormatInt(h.Version, 10),
		"qcredit.published_at":    h.PublishedAt.Format(time.RFC3339),
		"qcredit.manifest.count":  strconv.Itoa(h.Manifest.Count),
		"qcredit.manifest.sha256": h.Manifest.SHA256,
	}
	if changes {
		m["qcredit.from"] = strconv.FormatInt(h.From, 10)
	}
	return m
}

// EncodeSnapshot writes version v's entries in format (json, ndjson, csv,
// xlsx, arrow) exactly as the snapshot route serves them, with no HTTP: for
// benchmarks to compare against, and tools.
func EncodeSnapshot(w io.Writer, format string, v model.ListVersion, entries func(yield func(model.ListEntry) bool)) (int, error) {
	f := listFormat{format: export.Format(format)}
	if format == string(export.FormatArrow) {
		f.format = export.FormatArrow
	}
	return writeSnapshot(w, f, listHeader{List: v.List, Version: v.Number, PublishedAt: local(v.PublishedAt), Manifest: v.Manifest}, entries)
}

// writeSnapshot writes a version's entries in the format. JSON is
// {"list", "version", "published_at", "manifest", "entries"}; NDJSON the
// canonical snapshot itself, so its SHA-256 is the manifest's.
func writeSnapshot(w io.Writer, f listFormat, h listHeader, entries func(yield func(model.ListEntry) bool)) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	var line []byte
	switch f.format {
	case export.FormatJSON, export.FormatNDJSON:
		asJSON := f.format == export.FormatJSON
		if asJSON {
			if err := writeJSONHead(bw, h, "entries"); err != nil {
				return 0, err
			}
		}
		for e := range entries {
			line = e.AppendCanonical(line[:0])
			if asJSON {
				line = line[:len(line)-1]
				if n > 0 {
					bw.WriteByte(',')
				}
			}
			if _, err := bw.Write(line); err != nil {
				return n, err
			}
			n++
		}
		if asJSON {
			bw.WriteString("]}")
		}
	default:
		t, err := tableWriter(bw, f, h, entryColumns, false)
		if err != nil {
			return 0, err
		}
		var row []any
		for e := range entries {
			if err := t.Row(entryRow(row[:0], &e)...); err != nil {
				return n, err
			}
			n++
		}
		if err := t.Close(); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

// writeChanges writes changes in the format. JSON is {"from", "to",
// "manifest", "changes"}; NDJSON one change per line.
func writeChanges(w io.Writer, f listFormat, h listHeader, changes []model.ListChange) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch f.format {
	case export.FormatJSON, export.FormatNDJSON:
		asJSON := f.format == export.FormatJSON
		if asJSON {
			fmt.Fprintf(bw, `{"from":%d,"to":%d,"manifest":`, h.From, h.Version)
			m, _ := jsonMarshal(h.Manifest)
			bw.Write(m)
			bw.WriteString(`,"changes":[`)
		}
		var line []byte
		for i := range changes {
			line = changes[i].AppendCanonical(line[:0])
			if asJSON {
				line = line[:len(line)-1]
				if i > 0 {
					bw.WriteByte(',')
				}
			}
			bw.Write(line)
		}
		if asJSON {
			bw.WriteString("]}")
		}
	default:
		t, err := tableWriter(bw, f, h, append([]export.Column{opColumn}, entryColumns...), true)
		if err != nil {
			return err
		}
		row := make([]any, 0, len(entryColumns)+1)
		for i := range changes {
			row = append(row[:0], string(changes[i].Op))
			if err := t.Row(entryRow(row, &changes[i].Entry)...); err != nil {
				return err
			}
		}
		if err := t.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func tableWriter(w io.Writer, f listFormat, h listHeader, cols []export.Column, changes bool) (*export.Writer, error) {
	if f.format == export.FormatArrow {
		return export.NewArrowWriter(w, cols, h.arrowMeta(changes))
	}
	return export.NewWriter(w, f.format, tableColumns(cols, f.english))
}

// writeJSONHead writes the header's fields as the start of a JSON object
// whose last member is the array named field, left open.
func writeJSONHead(w *bufio.Writer, h listHeader, field string) error {
	b, err := jsonMarshal(h)
	if err != nil {
		return err
	}
	w.Write(b[:len(b)-1])
	w.WriteString(`,"` + field + `":[`)
	return nil
}

func jsonMarshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}
