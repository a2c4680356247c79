package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
)

type ingestDecoder = ingest.Decoder

func originAt(i int) model.Origin {
	return model.Origin{Kind: "http", Name: "fuzz", Position: fmt.Sprint(i + 1)}
}

// Fuzz targets of the request parsers. Seed corpora: testdata/fuzz/<Target>.
// Run one with: go test ./api -run XXX -fuzz FuzzSplitEvents -fuzztime 1m

func FuzzSplitEvents(f *testing.F) {
	f.Add([]byte(`[{"id":"a","data":{"x":"],}"}},{"id":"b"}]`))
	f.Add([]byte("{\"id\":\"a\"}\n{\"id\":\"b\"}\n"))
	f.Add([]byte(`[ ]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := splitEvents(body, 50)
		if err != nil {
			return
		}
		if len(items) > 50 {
			t.Fatalf("%d items past the limit", len(items))
		}
		for _, it := range items {
			if len(it) == 0 {
				t.Fatal("an empty item")
			}
			if !bytes.Contains(body, it) {
				t.Fatal("an item that is not part of the body")
			}
		}
		// A body encoding/json reads as an array splits into its items.
		var arr []json.RawMessage
		if bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("[")) && json.Unmarshal(body, &arr) == nil {
			if len(arr) != len(items) {
				t.Fatalf("%d items, encoding/json reads %d", len(items), len(arr))
			}
			for i := range arr {
				var a, b bytes.Buffer
				json.Compact(&a, arr[i])
				if err := json.Compact(&b, items[i]); err != nil || a.String() != b.String() {
					t.Fatalf("item %d: %q, encoding/json reads %q", i, items[i], arr[i])
				}
			}
		}
	})
}

func FuzzParseComplaint(f *testing.F) {
	f.Add([]byte(`{"kind":"complaint","uscc":"91320812MA1RUN01X3","category":"other","text":"质量问题","contact":"139"}`))
	f.Add([]byte(`{"kind":"question","firm_name":"润昌钢材","category":"metrology","text":"?"}`))
	f.Add([]byte(`{"kind":"report","text":"` + "\xff" + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := ParseComplaint(body)
		if err != nil {
			return
		}
		if q.Validate() != nil || !utf8.ValidString(q.Text) || utf8.RuneCountInString(q.Text) > maxComplaintText ||
			utf8.RuneCountInString(q.Contact) > maxComplaintContact || (q.USCC == "") == (q.FirmName == "") {
			t.Fatalf("accepted an invalid complaint: %+v", q)
		}
	})
}

// FuzzQueryParams feeds raw query strings to every listing's parameter
// parser: none may panic, and what they accept is within its bounds.
func FuzzQueryParams(f *testing.F) {
	for _, q := range []string{"grade=A&region=320830&limit=10&offset=5", "q=%E6%B6%A6%E6%98%8C&limit=50",
		"limit=-1", "offset=99999999999999999999", "since=2026-12-01&until=2026-12-02T00:00:00%2B08:00&scope=admin",
		"status=closed&kind=report&region=320800&uscc=91320812MA1RUN01X3&format=xlsx", "q=%ff%fe"} {
		f.Add(q)
	}
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, raw string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/x", nil)
		c.Request.URL.RawQuery = raw
		if q, limit, err := searchQuery(c); err == nil && (limit < 1 || limit > maxSearchHits || utf8.RuneCountInString(q) > maxSearchRunes || q == "") {
			t.Fatalf("search %q accepted limit %d, q %q", raw, limit, q)
		}
		if _, limit, offset, err := complaintQuery(c, false); err == nil && (limit < 1 || limit > maxLimit || offset < 0) {
			t.Fatalf("complaints %q accepted limit %d offset %d", raw, limit, offset)
		}
		if q, err := auditQuery(c, false); err == nil && (q.Limit < 1 || q.Limit > maxAuditLimit) {
			t.Fatalf("audit %q accepted limit %d", raw, q.Limit)
		}
		if _, err := url.ParseQuery(raw); err == nil {
			formatParam(c)
		}
	})
}

// FuzzEventBody runs an ingest body through what POST /api/v1/events does
// before the warehouse: split, then decode and validate each event. Every
// item comes out either stored-to-be or a dead letter with a reason.
func FuzzEventBody(f *testing.F) {
	f.Add([]byte(`[{"id":"320830-1","type":"spot_check.completed","uscc":"91320830MA1AAA018A","source":"320830",` +
		`"occurred_at":"2025-03-01T09:30:00+08:00","data":{"check_id":"C-1","product":"电线电缆","result":"fail"}}]`))
	f.Add([]byte(`{"id":"x","type":"complaint.received","uscc":"91320830MA1AAA018A","source":"320800","occurred_at":"2025-03-01T09:30:00Z","data":{"complaint_id":"W-1","kind":"report"}}` + "\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := splitEvents(body, MaxIngestEvents)
		if err != nil {
			return
		}
		for i, raw := range items {
			var d ingestDecoder
			it, dl := d.Decode(raw, originAt(i))
			switch {
			case dl == nil && it.Record.ID == "":
				t.Fatalf("item %d: neither stored nor dead-lettered: %q", i, raw)
			case dl != nil && dl.Reason == "":
				t.Fatalf("item %d: a dead letter without a reason", i)
			}
		}
	})
}
