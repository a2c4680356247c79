package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
)

// Complaint is a complaint as analysts see it: with the sender's text and
// contact, so the bureau can answer.
type Complaint struct {
	PublicComplaint
	Channel string `json:"channel,omitempty"`
	Source  string `json:"source"`
	Text    string `json:"text,omitempty"`
	Contact string `json:"contact,omitempty"`
	// Trackable says the sender holds a tracking code (web submissions).
	Trackable bool `json:"trackable"`
}

// ComplaintList is a page of complaints, newest first.
type ComplaintList struct {
	Total  int         `json:"total"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
	Items  []Complaint `json:"items"`
}

// complaintFilter selects complaints.
type complaintFilter struct {
	status ComplaintStatus
	kind   string
	region string
	uscc   model.USCC
	since  time.Time
}

func complaintQuery(c *gin.Context, exporting bool) (complaintFilter, int, int, error) {
	f := complaintFilter{status: ComplaintStatus(c.Query("status")), kind: c.Query("kind"), region: c.Query("region"),
		uscc: model.USCC(c.Query("uscc"))}
	var errs []error
	if f.status != "" && !slices.Contains([]ComplaintStatus{ComplaintStatusReceived, ComplaintStatusAccepted,
		ComplaintStatusRejected, ComplaintStatusClosed}, f.status) {
		errs = append(errs, fmt.Errorf("status %q: want received, accepted, rejected or closed", f.status))
	}
	if f.kind != "" && !slices.Contains(model.ComplaintKinds, f.kind) {
		errs = append(errs, fmt.Errorf("kind %q: want complaint, report or question", f.kind))
	}
	if f.region != "" && !model.IsHuaianBureau(f.region) {
		errs = append(errs, fmt.Errorf("region %q is not the city (320800) or one of its counties", f.region))
	}
	if f.uscc != "" {
		if r := (model.USCCPolicy{}).Check(string(f.uscc)); !r.Valid() {
			errs = append(errs, fmt.Errorf("uscc: %w", r.Err()))
		}
	}
	var err error
	f.since, err = timeParam(c, "since")
	errs = append(errs, err)
	limit, offset, err := listingPage(c, exporting)
	errs = append(errs, err)
	return f, limit, offset, errors.Join(errs...)
}

func (s *Server) analystComplaint(cp complaint) Complaint {
	return Complaint{PublicComplaint: PublicComplaint{ComplaintID: cp.ID, Kind: cp.Kind, Category: cp.Category,
		Firm: s.firmRef(cp.USCC), Status: cp.status(), ReceivedAt: local(cp.ReceivedAt), AcceptedAt: optTime(cp.AcceptedAt),
		RejectedAt: optTime(cp.RejectedAt), Reason: cp.RejectReason, ClosedAt: optTime(cp.ClosedAt), Verified: cp.Verified,
		Outcome: cp.Outcome, Answer: cp.Answer},
		Channel: cp.Channel, Source: cp.Source, Text: cp.Text, Contact: cp.Contact, Trackable: cp.Trackable}
}

var complaintColumns = []export.Column{
	{Key: "complaint_id", Zh: "编号", En: "Complaint"},
	{Key: "kind", Zh: "类型", En: "Kind"},
	{Key: "category", Zh: "类别", En: "Category"},
	{Key: "uscc", Zh: "统一社会信用代码", En: "USCC"},
	{Key: "name", Zh: "企业名称", En: "Name"},
	{Key: "source", Zh: "承办单位", En: "Bureau"},
	{Key: "status", Zh: "状态", En: "Status"},
	{Key: "received_at", Zh: "收到时间", En: "Received"},
	{Key: "closed_at", Zh: "办结时间", En: "Closed"},
	{Key: "verified", Zh: "是否属实", En: "Verified"},
	{Key: "text", Zh: "内容", En: "Text"},
	{Key: "contact", Zh: "联系方式", En: "Contact"},
}

// exportBatch is how many complaints an export copies out of the book at a
// time: an export of every complaint never holds them all at once.
const exportBatch = 1000

// listComplaints answers GET /api/v1/complaints: every channel's
// complaints, newest first; a county key sees its county's.
func (s *Server) listComplaints(c *gin.Context) {
	format, err := formatParam(c)
	exporting := err == nil && format != export.FormatJSON
	f, limit, offset, ferr := complaintQuery(c, exporting)
	if err = errors.Join(err, ferr); err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	var ok bool
	if f.region, ok = analystRegion(c, f.region); !ok {
		return
	}
	all := s.complaints.find(f)
	start := min(offset, len(all))
	page := all[start:min(start+limit, len(all))]
	if exporting {
		s.streamTable(c, format, "complaints-"+dayOf(s.now()), complaintColumns, func(w *export.Writer) error {
			for batch := range slices.Chunk(page, exportBatch) {
				for _, cp := range s.complaints.get(batch) {
					v := s.analystComplaint(cp)
					var closed, verified any
					if v.ClosedAt != nil {
						closed = *v.ClosedAt
					}
					if v.Verified != nil {
						verified = *v.Verified
					}
					if err := w.Row(v.ComplaintID, v.Kind, v.Category, v.Firm.USCC, v.Firm.Name, v.Source, v.Status,
						v.ReceivedAt, closed, verified, v.Text, v.Contact); err != nil {
						return err
					}
				}
			}
			return nil
		})
		return
	}
	out := ComplaintList{Total: len(all), Limit: limit, Offset: offset, Items: []Complaint{}}
	for _, cp := range s.complaints.get(page) {
		out.Items = append(out.Items, s.analystComplaint(cp))
	}
	auditItems(c, len(out.Items))
	c.JSON(http.StatusOK, out)
}
