package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// Complaints (投诉), reports of violations (举报) and questions (咨询) from
// the public: POST /api/v1/public/complaints becomes a complaint.received
// event, stored through the same decoder and warehouse write as any
// bureau's event, and answers a complaint id and a tracking code. The
// tracking code is shown once to the sender; the event keeps only its
// SHA-256. GET /api/v1/public/complaints/{tracking} shows the status as the
// bureau's complaint.accepted, complaint.rejected and complaint.closed
// events arrive (有查必果: every sender hears the result). The sender's
// contact is stored for the bureau, shown to analysts, and never shown
// publicly, logged or audited.

// ComplaintSource reads complaint events from the warehouse.
type ComplaintSource interface {
	EventsOfTypes(ctx context.Context, types []model.EventType, after time.Time, fn func(warehouse.IngestedEvent) error) error
}

var complaintTypes = []model.EventType{model.EventComplaintReceived, model.EventComplaintAccepted,
	model.EventComplaintRejected, model.EventComplaintClosed}

// Complaint limits.
const (
	maxComplaintBody    = 16 << 10
	maxComplaintText    = 2000 // characters
	maxComplaintContact = 100
	maxFirmName         = 100
)

// ComplaintStatus is where a complaint stands.
type ComplaintStatus string

const (
	ComplaintStatusReceived ComplaintStatus = "received"
	ComplaintStatusAccepted ComplaintStatus = "accepted" // 受理
	ComplaintStatusRejected ComplaintStatus = "rejected" // 不予受理
	ComplaintStatusClosed   ComplaintStatus = "closed"   // 办结
)

// Tracking codes: 16 characters of an alphabet without 0/O and 1/I, shown
// in groups of four (80 random bits: not guessable, short to read out).
const trackingAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

func newTrackingCode() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(trackingAlphabet[int(x)%len(trackingAlphabet)])
	}
	return sb.String(), nil
}

// trackingHash is the stored form of a tracking code, read leniently
// (letter case, dashes and spaces do not matter).
func trackingHash(code string) string {
	var norm strings.Builder
	for _, r := range strings.ToUpper(code) {
		if strings.ContainsRune(trackingAlphabet, r) {
			norm.WriteRune(r)
		}
	}
	h := sha256.Sum256([]byte(norm.String()))
	return hex.EncodeToString(h[:])
}

func newComplaintID(now time.Time) (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "WEB-" + now.In(model.Shanghai).Format("20060102") + "-" + strings.ToUpper(keyEncoding.EncodeToString(b[:])), nil
}

// ComplaintRequest is what the public sends.
type ComplaintRequest struct {
	// Kind is complaint (投诉), report (举报) or question (咨询).
	Kind string `json:"kind"`
	// USCC or FirmName says which enterprise it is about; a name is
	// resolved by the name search and must name one enterprise.
	USCC     string `json:"uscc,omitempty"`
	FirmName string `json:"firm_name,omitempty"`
	Category string `json:"category"`
	Text     string `json:"text"`
	// Contact (a telephone number or an address) lets the bureau answer.
	Contact string `json:"contact,omitempty"`
}

// Validate says everything wrong with the request but the firm's existence.
func (q ComplaintRequest) Validate() error {
	var errs []error
	if !slices.Contains(model.ComplaintKinds, q.Kind) {
		errs = append(errs, fmt.Errorf("kind %q: want complaint (投诉), report (举报) or question (咨询)", q.Kind))
	}
	if !slices.Contains(model.ComplaintCategories, q.Category) {
		errs = append(errs, fmt.Errorf("category %q: want one of %s", q.Category, strings.Join(model.ComplaintCategories, ", ")))
	}
	switch n := utf8.RuneCountInString(q.Text); {
	case !utf8.ValidString(q.Text) || blank(q.Text):
		errs = append(errs, errors.New("text is required: say what happened"))
	case n > maxComplaintText:
		errs = append(errs, fmt.Errorf("text is %d characters; at most %d", n, maxComplaintText))
	}
	switch {
	case q.USCC == "" && blank(q.FirmName):
		errs = append(errs, errors.New("say which enterprise: uscc or firm_name"))
	case q.USCC != "" && q.FirmName != "":
		errs = append(errs, errors.New("give uscc or firm_name, not both"))
	case q.USCC != "":
		if r := (model.USCCPolicy{}).Check(q.USCC); !r.Valid() {
			errs = append(errs, fmt.Errorf("uscc: %w", r.Err()))
		}
	case utf8.RuneCountInString(q.FirmName) > maxFirmName || !utf8.ValidString(q.FirmName):
		errs = append(errs, fmt.Errorf("firm_name: at most %d characters of text", maxFirmName))
	}
	if utf8.RuneCountInString(q.Contact) > maxComplaintContact || !utf8.ValidString(q.Contact) {
		errs = append(errs, fmt.Errorf("contact: at most %d characters", maxComplaintContact))
	}
	return errors.Join(errs...)
}

// ComplaintReceipt answers a submission: the tracking code is shown only now.
type ComplaintReceipt struct {
	ComplaintID  string          `json:"complaint_id"`
	TrackingCode string          `json:"tracking_code"`
	Status       ComplaintStatus `json:"status"`
	ReceivedAt   time.Time       `json:"received_at"`
	Firm         FirmRef         `json:"firm"`
}

// FirmRef names an enterprise.
type FirmRef struct {
	USCC model.USCC `json:"uscc"`
	Name string     `json:"name"`
}

// ParseComplaint reads a submission's body strictly: unknown fields and
// trailing data are refused.
func ParseComplaint(body []byte) (ComplaintRequest, error) {
	var q ComplaintRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return q, fmt.Errorf("the body is not a complaint object: %w", err)
	}
	if dec.More() {
		return q, errors.New("the body holds more than one object")
	}
	q.USCC, q.FirmName, q.Contact = strings.TrimSpace(q.USCC), strings.TrimSpace(q.FirmName), strings.TrimSpace(q.Contact)
	return q, q.Validate()
}

func (s *Server) postComplaint(c *gin.Context) {
	body, ok := readBody(c, maxComplaintBody)
	if !ok {
		return
	}
	q, err := ParseComplaint(body)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_complaint", err.Error())
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	firm, code, msg := resolveFirm(m, q)
	if code != "" {
		abort(c, http.StatusUnprocessableEntity, code, msg)
		return
	}
	receipt, err := s.submitComplaint(c.Request.Context(), q, firm)
	if err != nil {
		s.internal(c, "complaint", err)
		return
	}
	c.JSON(http.StatusCreated, receipt)
}

// resolveFirm finds the enterprise a complaint is about, or says why not.
func resolveFirm(m *serving.Model, q ComplaintRequest) (serving.Firm, string, string) {
	if q.USCC != "" {
		f, ok := m.Firm(model.USCC(q.USCC))
		if !ok {
			return f, "enterprise_not_found", "no enterprise with USCC " + q.USCC
		}
		return f, "", ""
	}
	res, err := m.SearchNames(q.FirmName, 5)
	if err != nil {
		return serving.Firm{}, "enterprise_not_found", "firm_name: " + err.Error()
	}
	switch {
	case len(res.Hits) == 0:
		return serving.Firm{}, "enterprise_not_found", fmt.Sprintf("no enterprise's name contains %q: check it, or give the USCC", q.FirmName)
	case len(res.Hits) == 1 || sameName(res.Hits[0].Name, q.FirmName):
		return res.Hits[0], "", ""
	}
	var names []string
	for _, h := range res.Hits {
		names = append(names, h.Name+" ("+string(h.USCC)+")")
	}
	return serving.Firm{}, "enterprise_ambiguous", fmt.Sprintf("%q names several enterprises (%s): give the full name or the USCC",
		q.FirmName, strings.Join(names, "; "))
}

func sameName(a, b string) bool {
	return strings.Join(strings.Fields(a), "") == strings.Join(strings.Fields(b), "")
}

// submitComplaint stores the complaint.received event and returns its receipt.
func (s *Server) submitComplaint(ctx context.Context, q ComplaintRequest, firm serving.Firm) (ComplaintReceipt, error) {
	now := s.now().Truncate(time.Second)
	id, err := newComplaintID(now)
	if err != nil {
		return ComplaintReceipt{}, err
	}
	code, err := newTrackingCode()
	if err != nil {
		return ComplaintReceipt{}, err
	}
	source := firm.Region // the county bureau that handles the firm
	if !model.IsHuaianBureau(source) {
		source = model.CityHuaian
	}
	data := map[string]any{"complaint_id": id, "channel": "web", "kind": q.Kind, "category": q.Category, "text": q.Text,
		"tracking_hash": trackingHash(code)}
	if q.Contact != "" {
		data["contact"] = q.Contact
	}
	raw, err := json.Marshal(map[string]any{"id": source + "-" + id, "type": model.EventComplaintReceived, "uscc": firm.USCC,
		"source": source, "occurred_at": local(now).Format(time.RFC3339), "data": data})
	if err != nil {
		return ComplaintReceipt{}, err
	}
	it, dl := s.decoder.Decode(raw, model.Origin{Kind: "http", Name: "public-complaints", Position: id})
	if dl != nil { // our own event: a bug, never a dead letter holding someone's contact
		return ComplaintReceipt{}, fmt.Errorf("complaint event refused: %s", dl.Detail)
	}
	outcomes, err := s.writer.write(ctx, []warehouse.Item{it}, nil)
	if err != nil {
		return ComplaintReceipt{}, err
	}
	if outcomes[0] != outcomeStored {
		return ComplaintReceipt{}, fmt.Errorf("complaint id %s was taken", id)
	}
	s.complaints.apply(it.Record.Event)
	s.ingested.WithLabelValues(string(EventStatusStored)).Inc()
	return ComplaintReceipt{ComplaintID: id, TrackingCode: code, Status: ComplaintStatusReceived, ReceivedAt: local(now),
		Firm: FirmRef{USCC: firm.USCC, Name: firm.Name}}, nil
}

// PublicComplaint is what the sender sees of a complaint: its progress
// and the bureau's answer, never the text's sender or contact.
type PublicComplaint struct {
	ComplaintID string          `json:"complaint_id"`
	Kind        string          `json:"kind"`
	Category    string          `json:"category"`
	Firm        FirmRef         `json:"firm"`
	Status      ComplaintStatus `json:"status"`
	ReceivedAt  time.Time       `json:"received_at"`
	AcceptedAt  *time.Time      `json:"accepted_at,omitempty"`
	RejectedAt  *time.Time      `json:"rejected_at,omitempty"`
	Reason      string          `json:"reason,omitempty"` // why it was not accepted
	ClosedAt    *time.Time      `json:"closed_at,omitempty"`
	Verified    *bool           `json:"verified,omitempty"`
	Outcome     string          `json:"outcome,omitempty"`
	Answer      string          `json:"answer,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	l := local(t)
	return &l
}

func (s *Server) complaintStatus(c *gin.Context) {
	code := c.Param("tracking")
	if len(code) > 64 {
		abort(c, http.StatusBadRequest, "invalid_tracking_code", "a tracking code reads XXXX-XXXX-XXXX-XXXX")
		return
	}
	cp, ok := s.complaints.byTrackingCode(code)
	if !ok || !cp.received {
		abort(c, http.StatusNotFound, "complaint_not_found", "no complaint with this tracking code (codes read XXXX-XXXX-XXXX-XXXX)")
		return
	}
	out := PublicComplaint{ComplaintID: cp.ID, Kind: cp.Kind, Category: cp.Category, Firm: s.firmRef(cp.USCC),
		Status: cp.status(), ReceivedAt: local(cp.ReceivedAt), AcceptedAt: optTime(cp.AcceptedAt),
		RejectedAt: optTime(cp.RejectedAt), Reason: cp.RejectReason, ClosedAt: optTime(cp.ClosedAt), Verified: cp.Verified,
		Outcome: cp.Outcome, Answer: cp.Answer}
	c.JSON(http.StatusOK, out)
}

// firmRef names the enterprise from the read model.
func (s *Server) firmRef(u model.USCC) FirmRef {
	ref := FirmRef{USCC: u}
	if m := s.model.Current(); m != nil {
		if f, ok := m.Firm(u); ok {
			ref.Name = f.Name
		}
	}
	return ref
}

// refreshComplaints reloads complaint events every KeyRefresh until ctx ends.
func (s *Server) refreshComplaints(ctx context.Context) {
	t := time.NewTicker(s.opts.KeyRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.complaints.refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("complaints not refreshed", "err", err)
		}
	}
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

func (s *Server) complaintRoutes() {
	s.handle("POST", "/public/complaints", public, s.postComplaint)
	s.handle("GET", "/public/complaints/:tracking", public, s.complaintStatus)
	s.handle("GET", "/complaints", analysts, s.listComplaints)
}
