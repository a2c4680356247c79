package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
)

// PublicListing is one entry of the serious dishonest list as disclosed to
// the public (公示): no entry key, no source event ids.
type PublicListing struct {
	USCC               model.USCC `json:"uscc"`
	Name               string     `json:"name"`
	Reason             string     `json:"reason"`    // 列入原因
	Basis              string     `json:"basis"`     // 列入依据
	Authority          string     `json:"authority"` // 作出决定机关
	ListedAt           string     `json:"listed_at"` // 列入日期
	ExpiresAt          string     `json:"expires_at,omitempty"`
	RepairPossibleFrom string     `json:"repair_possible_from,omitempty"`
	Measures           []string   `json:"measures"` // the measures' names (联合惩戒措施)
}

// PublicListPage is a page of the published serious dishonest list.
type PublicListPage struct {
	List        model.List      `json:"list"`
	Name        string          `json:"name"`
	Version     int64           `json:"version"` // 0 before the first
	PublishedAt *time.Time      `json:"published_at,omitempty"`
	Total       int             `json:"total"`
	Offset      int             `json:"offset"`
	Limit       int             `json:"limit"`
	Items       []PublicListing `json:"items"`
}

const maxPublicListPage = 100

// publicDishonest pages through the latest published version of the serious
// dishonest list, in key order (by USCC).
func (s *Server) publicDishonest(c *gin.Context) {
	limit, offset, err := pageParams(c, 20, maxPublicListPage)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	page := PublicListPage{List: model.ListDishonest, Name: "严重违法失信名单", Offset: offset, Limit: limit, Items: []PublicListing{}}
	p := m.Lists()
	if p == nil || p.History(model.ListDishonest) == nil {
		c.JSON(http.StatusOK, page) // nothing published yet
		return
	}
	h := p.History(model.ListDishonest)
	v := h.Latest()
	entries, err := h.Snapshot(v.Number)
	if err != nil {
		s.internal(c, "public list", err)
		return
	}
	at := local(v.PublishedAt)
	page.Version, page.PublishedAt = v.Number, &at
	// An entry past its expires_at that no later version has removed yet
	// is no longer shown, as the lookup's listing line does (ListedOn): the
	// public was told when it ends. Total counts the entries shown.
	today := s.now().In(model.Shanghai).Format(time.DateOnly)
	for e := range entries {
		if !e.ListedOn(today) {
			continue
		}
		if page.Total >= offset && len(page.Items) < limit {
			page.Items = append(page.Items, publicListing(&e, v.Measures))
		}
		page.Total++
	}
	c.JSON(http.StatusOK, page)
}

func publicListing(e *model.ListEntry, measures map[string]model.ListMeasure) PublicListing {
	p := PublicListing{USCC: e.USCC, Name: e.Name, Reason: e.Reason, Basis: e.Basis, Authority: e.Authority, ListedAt: e.ListedAt,
		ExpiresAt: e.ExpiresAt, RepairPossibleFrom: e.RepairPossibleFrom, Measures: make([]string, 0, len(e.Measures))}
	for _, id := range e.Measures {
		name := id
		if m, ok := measures[id]; ok {
			name = m.Name
		}
		p.Measures = append(p.Measures, name)
	}
	return p
}

// listingLine is the public lookup's one line for a firm on the latest
// published serious dishonest list today, e.g. "列入严重违法失信名单：2025年3月3日因…
// （2025-03-11列入，2028-03-11届满移出）"; "" when it is not listed.
func listingLine(m *serving.Model, uscc model.USCC, now time.Time) string {
	p := m.Lists()
	if p == nil || p.History(model.ListDishonest) == nil {
		return ""
	}
	h := p.History(model.ListDishonest)
	today := now.In(model.Shanghai).Format(time.DateOnly)
	var parts []string
	for _, e := range h.EntriesOf(uscc, h.Latest().Number) {
		if !e.ListedOn(today) {
			continue
		}
		part := e.Reason + "（" + e.ListedAt + "列入"
		if e.ExpiresAt != "" {
			part += "，" + e.ExpiresAt + "届满移出"
		}
		parts = append(parts, part+"）")
	}
	if len(parts) == 0 {
		return ""
	}
	return "列入严重违法失信名单：" + strings.Join(parts, "；")
}
