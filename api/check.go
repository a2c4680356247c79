package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
)

// MaxCheck is the most USCCs one check takes.
const MaxCheck = 1000

// CheckRequest asks whether firms are listed, as published by the end of a
// day (+08:00; default today).
type CheckRequest struct {
	USCCs []string `json:"usccs"`
	AsOf  string   `json:"as_of,omitempty"`
}

// CheckResponse answers a check, one result per USCC asked, in order.
type CheckResponse struct {
	AsOf    string        `json:"as_of"`
	Results []CheckResult `json:"results"`
	// Measures name the measures (联合惩戒措施) the entries refer to by id.
	Measures map[string]model.ListMeasure `json:"measures"`
}

// CheckResult is one firm's standing on every list.
type CheckResult struct {
	USCC   model.USCC   `json:"uscc"`
	Listed bool         `json:"listed"`
	Lists  []ListStatus `json:"lists"`
}

// ListStatus is a firm's standing on one list as published by the end of
// the day: the version then in force (0 before the first) and the firm's
// entries of it listed that day by their own dates — since when
// (listed_at), until when (expires_at or removed_at), why (reason, basis),
// by whom (authority), the measures.
type ListStatus struct {
	List        model.List        `json:"list"`
	Version     int64             `json:"version"`
	PublishedAt *time.Time        `json:"published_at,omitempty"`
	Listed      bool              `json:"listed"`
	Entries     []model.ListEntry `json:"entries"`
}

// check answers "was this firm listed on the day of the bid, as published
// then": from the versions in force, never recomputed.
func (s *Server) check(c *gin.Context) {
	var q CheckRequest
	if err := c.ShouldBindJSON(&q); err != nil {
		abort(c, http.StatusBadRequest, "invalid_body", `the body must be {"usccs": ["…", …], "as_of": "YYYY-MM-DD"}: `+err.Error())
		return
	}
	usccs, day, err := s.checkInput(q)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	dayText := day.Format(time.DateOnly)
	resp := CheckResponse{AsOf: dayText, Results: make([]CheckResult, len(usccs)), Measures: map[string]model.ListMeasure{}}
	type inForce struct {
		h  *serving.ListHistory
		v  model.ListVersion
		ok bool
	}
	var versions []inForce
	if p := m.Lists(); p != nil {
		for _, l := range model.Lists {
			h := p.History(l)
			if h == nil {
				continue
			}
			v, ok, err := h.InForceOn(day)
			if errors.Is(err, serving.ErrNotRetained) {
				abort(c, http.StatusGone, "as_of_not_retained", err.Error()+": ask about a later day")
				return
			}
			for id, ms := range v.Measures {
				resp.Measures[id] = ms
			}
			versions = append(versions, inForce{h, v, ok})
		}
	}
	listed := 0
	for i, u := range usccs {
		r := CheckResult{USCC: u, Lists: make([]ListStatus, 0, len(versions))}
		for _, f := range versions {
			ls := ListStatus{List: f.h.List(), Entries: []model.ListEntry{}}
			if f.ok {
				at := local(f.v.PublishedAt)
				ls.Version, ls.PublishedAt = f.v.Number, &at
				for _, e := range f.h.EntriesOf(u, f.v.Number) {
					if e.ListedOn(dayText) {
						ls.Entries = append(ls.Entries, e)
					}
				}
			}
			ls.Listed = len(ls.Entries) > 0
			r.Listed = r.Listed || ls.Listed
			r.Lists = append(r.Lists, ls)
		}
		if r.Listed {
			listed++
		}
		resp.Results[i] = r
	}
	auditItems(c, len(usccs))
	auditDetail(c, "as_of", dayText)
	auditDetail(c, "listed", fmt.Sprint(listed))
	for _, f := range versions {
		auditDetail(c, "version_"+string(f.h.List()), fmt.Sprint(f.v.Number))
	}
	body, err := resp.appendJSON(make([]byte, 0, 64<<10))
	if err != nil {
		s.internal(c, "check", err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// appendJSON writes the response as encoding/json would (no HTML
// escaping), the entries in their canonical form: a check of 1,000 listed
// firms is a megabyte, and reflection over it cost most of the request.
func (r *CheckResponse) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"as_of":"`...)
	b = append(b, r.AsOf...)
	b = append(b, `","results":[`...)
	for i := range r.Results {
		res := &r.Results[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"uscc":`...)
		b = strconv.AppendQuote(b, string(res.USCC)) // a valid USCC is 18 ASCII letters and digits
		b = append(b, `,"listed":`...)
		b = strconv.AppendBool(b, res.Listed)
		b = append(b, `,"lists":[`...)
		for j := range res.Lists {
			ls := &res.Lists[j]
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"list":"`...)
			b = append(b, ls.List...)
			b = append(b, `","version":`...)
			b = strconv.AppendInt(b, ls.Version, 10)
			if ls.PublishedAt != nil {
				b = append(b, `,"published_at":"`...)
				b = ls.PublishedAt.AppendFormat(b, time.RFC3339Nano)
				b = append(b, '"')
			}
			b = append(b, `,"listed":`...)
			b = strconv.AppendBool(b, ls.Listed)
			b = append(b, `,"entries":[`...)
			for k := range ls.Entries {
				if k > 0 {
					b = append(b, ',')
				}
				b = ls.Entries[k].AppendJSON(b)
			}
			b = append(b, "]}"...)
		}
		b = append(b, "]}"...)
	}
	measures, err := jsonMarshal(r.Measures)
	if err != nil {
		return nil, err
	}
	b = append(b, `],"measures":`...)
	b = append(b, measures...)
	return append(b, '}'), nil
}

// checkInput validates the request: 1 to MaxCheck valid USCCs, a day not
// after today.
func (s *Server) checkInput(q CheckRequest) ([]model.USCC, time.Time, error) {
	var errs []error
	switch n := len(q.USCCs); {
	case n == 0:
		errs = append(errs, errors.New("usccs: give at least one USCC"))
	case n > MaxCheck:
		errs = append(errs, fmt.Errorf("usccs: %d given, at most %d per check", n, MaxCheck))
	}
	usccs := make([]model.USCC, len(q.USCCs))
	var bad []string
	for i, u := range q.USCCs {
		u = strings.TrimSpace(u)
		if r := (model.USCCPolicy{}).Check(u); !r.Valid() {
			if len(bad) < 10 {
				bad = append(bad, fmt.Sprintf("%q (%v)", u, r.Err()))
			}
			continue
		}
		usccs[i] = model.USCC(u)
	}
	if len(bad) > 0 {
		errs = append(errs, fmt.Errorf("usccs: not valid codes: %s", strings.Join(bad, "; ")))
	}
	now := s.now().In(model.Shanghai)
	day := now
	if q.AsOf != "" {
		d, err := time.ParseInLocation(time.DateOnly, q.AsOf, model.Shanghai)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("as_of %q: want YYYY-MM-DD", q.AsOf))
		case d.After(now):
			errs = append(errs, fmt.Errorf("as_of %s is after today (%s, +08:00): nothing is published for it yet", q.AsOf, now.Format(time.DateOnly)))
		}
		day = d
	}
	return usccs, day, errors.Join(errs...)
}
