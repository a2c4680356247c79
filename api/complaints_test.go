package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// complaintServer serves two registered steel traders of 清江浦区.
func complaintServer(t *testing.T) (*apitest.Server, *duckdb.Store, model.USCC) {
	t.Helper()
	s := duckdbtest.Open(t)
	runchang := model.CompleteUSCC("91320812MA1RUN01")
	addEvents(t, s,
		conformance.Event(t, "320812-r1", model.EventEnterpriseRegistered, runchang, at(1, 2),
			map[string]any{"name": "清江浦区润昌钢材有限公司", "region": "320812", "industry": "C3130"}),
		conformance.Event(t, "320812-r2", model.EventEnterpriseRegistered, model.CompleteUSCC("91320812MA1RUN02"), at(1, 2),
			map[string]any{"name": "淮安市宏达钢材贸易有限公司", "region": "320812", "industry": "C3130"}),
	)
	srv := apitest.Start(t, s, loadedModel(t, s, serving.Options{}), api.Options{KeyRefresh: 20 * time.Millisecond})
	return srv, s, runchang
}

const contact = "13905170000"

func TestComplaintFromSubmissionToAnswer(t *testing.T) {
	// Given the public reports 润昌 by part of its name, when the bureau then
	// accepts and closes it with events over HTTP ingest, then the complaint
	// is an event in the firm's credit file, in the analysts' list with its
	// contact, and its public status by tracking code goes received →
	// accepted → closed with the answer, never showing the contact.
	srv, _, runchang := complaintServer(t)
	var receipt api.ComplaintReceipt
	srv.Post(t, "/api/v1/public/complaints", "", map[string]any{"kind": "report", "firm_name": "润昌钢材",
		"category": "product_quality", "text": "销售无厂名厂址的钢筋", "contact": contact}, http.StatusCreated, &receipt)
	if receipt.Firm.USCC != runchang || receipt.Status != "received" || len(receipt.TrackingCode) != 19 || receipt.ComplaintID == "" {
		t.Fatalf("receipt: %+v", receipt)
	}
	status := func() api.PublicComplaint {
		var p api.PublicComplaint
		resp := srv.Get(t, "/api/v1/public/complaints/"+strings.ToLower(receipt.TrackingCode), "", http.StatusOK, &p)
		if b := readAll(resp); strings.Contains(b, contact) || strings.Contains(b, "钢筋") {
			t.Fatalf("the public status shows the contact or the text: %s", b)
		}
		return p
	}
	if p := status(); p.Status != "received" || p.ComplaintID != receipt.ComplaintID || p.Firm.Name != "清江浦区润昌钢材有限公司" {
		t.Errorf("status at first: %+v", p)
	}

	var file struct {
		Records []struct {
			Type   string `json:"type"`
			Source string `json:"source"`
		} `json:"records"`
	}
	srv.Get(t, "/api/v1/enterprises/"+string(runchang), api.ScopeAnalyst, http.StatusOK, &file)
	if len(file.Records) != 2 || file.Records[1].Type != "complaint.received" || file.Records[1].Source != "320812" {
		t.Errorf("credit file records: %+v", file.Records)
	}
	var list api.ComplaintList
	srv.Get(t, "/api/v1/complaints?kind=report", api.ScopeAnalyst, http.StatusOK, &list)
	if list.Total != 1 || list.Items[0].Contact != contact || list.Items[0].Text != "销售无厂名厂址的钢筋" || !list.Items[0].Trackable {
		t.Errorf("analysts' list: %+v", list)
	}

	bureau := func(typ model.EventType, id, data string) {
		t.Helper()
		ev := fmt.Sprintf(`[{"id":%q,"type":%q,"uscc":%q,"source":"320812","occurred_at":%q,"data":{"complaint_id":%q%s}}]`,
			id, typ, runchang, time.Now().Format(time.RFC3339), receipt.ComplaintID, data)
		var res api.IngestResult
		srv.Post(t, "/api/v1/events", api.ScopeIngest, ev, http.StatusOK, &res)
		if res.Stored != 1 {
			t.Fatalf("%s: %+v", typ, res)
		}
	}
	bureau(model.EventComplaintAccepted, "320812-acc-1", "")
	waitFor(t, "status accepted", func() bool { return status().Status == "accepted" })
	bureau(model.EventComplaintClosed, "320812-close-1", `,"verified":true,"outcome":"立案查处","answer":"经查属实，已依法处理。"`)
	waitFor(t, "status closed", func() bool { return status().Status == "closed" })
	if p := status(); p.Answer != "经查属实，已依法处理。" || p.Verified == nil || !*p.Verified || p.AcceptedAt == nil || p.ClosedAt == nil {
		t.Errorf("closed: %+v", p)
	}
	var log api.AuditList
	resp := srv.Get(t, "/api/v1/audit", api.ScopeAdmin, http.StatusOK, &log)
	if strings.Contains(readAll(resp), contact) {
		t.Error("the audit log holds the contact")
	}
}

func TestComplaintValidation(t *testing.T) {
	srv, _, _ := complaintServer(t)
	good := map[string]any{"kind": "complaint", "uscc": string(model.CompleteUSCC("91320812MA1RUN01")),
		"category": "product_quality", "text": "质量问题"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"unknown kind", with("kind", "praise"), 400, "invalid_complaint"},
		{"no text", with("text", " "), 400, "invalid_complaint"},
		{"text too long", with("text", strings.Repeat("长", 2001)), 400, "invalid_complaint"},
		{"unknown field", with("name", "x"), 400, "invalid_complaint"},
		{"no firm", with("uscc", nil), 400, "invalid_complaint"},
		{"bad uscc", with("uscc", "91320812MA1RUN01XX"), 400, "invalid_complaint"},
		{"unknown firm", with("uscc", string(model.CompleteUSCC("91320812MA1NQP01"))), 422, "enterprise_not_found"},
		{"ambiguous name", map[string]any{"kind": "question", "firm_name": "钢材", "category": "other", "text": "咨询"}, 422, "enterprise_ambiguous"},
		{"unknown name", map[string]any{"kind": "question", "firm_name": "不存在", "category": "other", "text": "咨询"}, 422, "enterprise_not_found"},
		{"not json", "kind=complaint", 400, "invalid_complaint"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e apiError
			srv.Post(t, "/api/v1/public/complaints", "", c.body, c.status, &e)
			if e.Error.Code != c.code {
				t.Errorf("code %q, want %q (%s)", e.Error.Code, c.code, e.Error.Message)
			}
		})
	}
	srv.Get(t, "/api/v1/public/complaints/AAAA-BBBB-CCCC-DDDD", "", http.StatusNotFound, nil)
}
