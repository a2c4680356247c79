package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Feedback to the bureaus: GET /api/v1/ingest/dead-letters lists refused
// input with its reason, detail and every origin it came from (Kafka, HTTP,
// a file), so a county bureau can correct and resend. An ingest key bound to
// a county sees the dead letters whose event names that county as source;
// the city's key (320800) and analysts see all of them, those whose source
// could not be read (broken JSON) included.

// DeadLetterReader lists dead letters.
type DeadLetterReader interface {
	DeadLetters(ctx context.Context, f warehouse.DeadLetterFilter) ([]warehouse.StoredDeadLetter, error)
}

// DeadLetterList is a page of dead letters, oldest first.
type DeadLetterList struct {
	Items []warehouse.StoredDeadLetter `json:"items"`
	// Next is the since of the following page, when this one is full.
	Next string `json:"next,omitempty"`
}

func (s *Server) deadLetterRoutes() {
	s.handle("GET", "/ingest/dead-letters", []Scope{ScopeIngest, ScopeAnalyst}, s.listDeadLetters)
}

var deadLetterColumns = []export.Column{
	{Key: "received_at", Zh: "首次收到", En: "Received"},
	{Key: "source", Zh: "报送单位", En: "Source"},
	{Key: "reason", Zh: "原因", En: "Reason"},
	{Key: "detail", Zh: "说明", En: "Detail"},
	{Key: "event_id", Zh: "事件编号", En: "Event"},
	{Key: "origins", Zh: "来源", En: "Origins"},
	{Key: "raw", Zh: "原始数据", En: "Raw"},
	{Key: "key", Zh: "键", En: "Key"},
}

func (s *Server) listDeadLetters(c *gin.Context) {
	format, err := formatParam(c)
	exporting := err == nil && format != export.FormatJSON
	f := warehouse.DeadLetterFilter{Reason: model.DeadLetterReason(c.Query("reason")), Source: c.Query("source")}
	errs := []error{err}
	f.Since, err = timeParam(c, "since")
	errs = append(errs, err)
	def, hi := defaultLimit, maxLimit
	if exporting {
		def, hi = 100_000, 1_000_000
	}
	f.Limit, err = intParam(c, "limit", def, 1, hi)
	errs = append(errs, err)
	if f.Source != "" && !model.IsHuaianBureau(f.Source) {
		errs = append(errs, fmt.Errorf("source %q is not the city (320800) or one of its counties", f.Source))
	}
	if f.Reason != "" && !slices.Contains(model.DeadLetterReasons(), f.Reason) {
		var names []string
		for _, r := range model.DeadLetterReasons() {
			names = append(names, string(r))
		}
		errs = append(errs, fmt.Errorf("reason %q: want one of %s", f.Reason, strings.Join(names, ", ")))
	}
	if err := errors.Join(errs...); err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	cl := caller(c)
	if cl.Region != "" && cl.Region != model.CityHuaian { // a county's key: its own source only
		if f.Source != "" && f.Source != cl.Region {
			outsideRegion(c, cl, f.Source)
			return
		}
		f.Source = cl.Region
	}
	letters, err := s.store.DeadLetters(c.Request.Context(), f)
	if err != nil {
		s.internal(c, "dead letters", err)
		return
	}
	if exporting {
		s.streamTable(c, format, "dead-letters-"+dayOf(s.now()), deadLetterColumns, func(w *export.Writer) error {
			for _, dl := range letters {
				var origins []string
				for _, o := range dl.Origins {
					origins = append(origins, o.String())
				}
				if err := w.Row(local(dl.Received), dl.Source, dl.Reason, dl.Detail, dl.EventID, strings.Join(origins, "; "),
					dl.Raw, dl.Key); err != nil {
					return err
				}
			}
			return nil
		})
		return
	}
	out := DeadLetterList{Items: letters}
	for i := range out.Items {
		out.Items[i].Received = local(out.Items[i].Received)
		for j := range out.Items[i].Origins {
			out.Items[i].Origins[j].Received = local(out.Items[i].Origins[j].Received)
		}
	}
	if len(letters) == f.Limit {
		out.Next = local(letters[len(letters)-1].Received.Add(time.Microsecond)).Format(time.RFC3339Nano)
	}
	auditItems(c, len(letters))
	c.JSON(http.StatusOK, out)
}
