package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
)

// PublicEnterprise is what the public sees of an enterprise.
type PublicEnterprise struct {
	USCC         model.USCC `json:"uscc"`
	Name         string     `json:"name"`
	Region       string     `json:"region"`
	RegionName   string     `json:"region_name,omitempty"`
	Industry     string     `json:"industry"`
	IndustryName string     `json:"industry_name,omitempty"`
	Cluster      string     `json:"cluster,omitempty"`
	Deregistered bool       `json:"deregistered"`
	// Grade is the current quality-credit grade (A–D) and GradeLabel its
	// name (守信 …); both empty before the enterprise's first score run.
	Grade      model.Grade `json:"grade,omitempty"`
	GradeLabel string      `json:"grade_label,omitempty"`
	// AsOf is the day the grade is as of.
	AsOf string `json:"as_of,omitempty"`
	// Listing is, for a firm on the published serious dishonest list, one
	// line with the reason and the expiry (see listingLine).
	Listing string `json:"listing,omitempty"`
}

// PublicLookup is the public lookup by USCC: the enterprise and its
// penalties in publication (empty when none).
type PublicLookup struct {
	PublicEnterprise
	Penalties []PublicPenalty `json:"penalties"`
}

// publicEnterprise is the public credit lookup of one enterprise by USCC,
// answered from the read model alone.
func (s *Server) publicEnterprise(c *gin.Context) {
	uscc, ok := checkUSCC(c)
	if !ok {
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	f, ok := m.Firm(uscc)
	if !ok {
		abort(c, http.StatusNotFound, "enterprise_not_found", "no enterprise with USCC "+string(uscc))
		return
	}
	p := PublicLookup{PublicEnterprise: publicView(f)}
	if run, ok := m.ScoreRun(); ok && f.Grade != "" {
		p.AsOf = run.AsOf
	}
	now := s.now()
	p.Listing = listingLine(m, uscc, now)
	p.Penalties = publicPenalties(m, uscc, now)
	c.Data(http.StatusOK, "application/json; charset=utf-8", p.appendJSON(make([]byte, 0, 512)))
}

// appendJSON writes the lookup as c.JSON would (encoding/json, HTML
// escaped): the lookup answers tens of thousands of times a second, and
// reflection was a tenth of its cost.
func (p *PublicLookup) appendJSON(b []byte) []byte {
	str := func(b []byte, name, v string) []byte { return model.AppendJSONString(append(b, name...), v, true) }
	opt := func(b []byte, name, v string) []byte {
		if v == "" {
			return b
		}
		return str(b, name, v)
	}
	b = str(b, `{"uscc":`, string(p.USCC))
	b = str(b, `,"name":`, p.Name)
	b = str(b, `,"region":`, p.Region)
	b = opt(b, `,"region_name":`, p.RegionName)
	b = str(b, `,"industry":`, p.Industry)
	b = opt(b, `,"industry_name":`, p.IndustryName)
	b = opt(b, `,"cluster":`, p.Cluster)
	b = strconv.AppendBool(append(b, `,"deregistered":`...), p.Deregistered)
	b = opt(b, `,"grade":`, string(p.Grade))
	b = opt(b, `,"grade_label":`, p.GradeLabel)
	b = opt(b, `,"as_of":`, p.AsOf)
	b = opt(b, `,"listing":`, p.Listing)
	b = append(b, `,"penalties":[`...)
	for i, x := range p.Penalties {
		if i > 0 {
			b = append(b, ',')
		}
		b = str(b, `{"decided_on":`, x.DecidedOn)
		b = str(b, `,"decision_no":`, x.DecisionNo)
		b = str(b, `,"authority":`, x.Authority)
		b = str(b, `,"authority_code":`, x.AuthorityCode)
		b = str(b, `,"violation":`, x.Violation)
		b = str(b, `,"severity":`, x.Severity)
		if x.FineYuan != nil {
			b = model.AppendJSONFloat(append(b, `,"fine_yuan":`...), *x.FineYuan)
		}
		b = str(b, `,"published_until":`, x.PublishedTill)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func publicView(f serving.Firm) PublicEnterprise {
	p := PublicEnterprise{USCC: f.USCC, Name: f.Name, Region: f.Region, Industry: f.Industry,
		Cluster: f.Cluster, Deregistered: f.Deregistered, Grade: f.Grade, GradeLabel: f.Grade.Label()}
	if r, ok := model.LookupRegion(f.Region); ok {
		p.RegionName = r.Name
	}
	if i, ok := model.LookupIndustry(f.Industry); ok {
		p.IndustryName = i.Name
	} else if i, ok := model.LookupIndustry(model.Division(f.Industry)); ok {
		p.IndustryName = i.Name
	}
	return p
}

// Search limits.
const (
	maxSearchHits  = 50
	maxSearchRunes = 100
)

// SearchResult is a name search's hits, best first: the enterprise whose
// USCC is the query, then names by length (an exact name first).
type SearchResult struct {
	Query string             `json:"query"`
	Items []PublicEnterprise `json:"items"`
	// More says more enterprises matched than the limit.
	More bool `json:"more"`
}

// searchEnterprises is the public name search (企业名称检索), from the read
// model alone: GET /api/v1/public/enterprises?q=润昌&limit=20.
func (s *Server) searchEnterprises(c *gin.Context) {
	q, limit, err := searchQuery(c)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	res, err := m.SearchNames(q, limit)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	out := SearchResult{Query: q, Items: make([]PublicEnterprise, 0, len(res.Hits)), More: res.More}
	asOf := ""
	if run, ok := m.ScoreRun(); ok {
		asOf = run.AsOf
	}
	for _, f := range res.Hits {
		p := publicView(f)
		if f.Grade != "" {
			p.AsOf = asOf
		}
		out.Items = append(out.Items, p)
	}
	c.JSON(http.StatusOK, out)
}

// searchQuery reads q (2–100 characters) and limit (1–50, default 20).
func searchQuery(c *gin.Context) (string, int, error) {
	q := strings.TrimSpace(c.Query("q"))
	var errs []error
	switch n := utf8.RuneCountInString(q); {
	case !utf8.ValidString(q):
		errs = append(errs, errors.New("q must be UTF-8 text"))
	case n == 0:
		errs = append(errs, errors.New("q is required: a part of a name (润昌, 钢材) or a USCC"))
	case n > maxSearchRunes:
		errs = append(errs, fmt.Errorf("q is %d characters; at most %d", n, maxSearchRunes))
	}
	limit, err := intParam(c, "limit", 20, 1, maxSearchHits)
	errs = append(errs, err)
	return q, limit, errors.Join(errs...)
}
