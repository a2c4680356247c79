package api

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"weak"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
)

// An analyst key bound to a county (keys create --source 3208xx) sees that
// county's firms only. Each analyst route either answers over the county
// (its firms, its clusters, its rows) or, when its answer is the city's and
// cannot be cut to a county, refuses the key: cityWideRoutes. README.md
// (Keys and scopes) lists the decision of every route.

// codeCityWide is the 403 code of a city-wide route refused to a county key.
const codeCityWide = "city_wide_route"

// cityWideRoutes are the analyst-readable routes a county key may not read,
// with why, keyed "METHOD /path" under /api/v1.
var cityWideRoutes = map[string]string{
	"GET /dashboard/movement": "grade movement is counted over the whole city's firms between two score runs; " +
		"the read model holds no per-county movement",
	"GET /plan": "the spot-check plan is the city's, made from every county's checks and cluster warnings " +
		"(its reasons name other counties' clusters)",
	"GET /draws/:id/explain": "a draw is made over the whole city: its explanation lists every county's firms and inspectors",
	"GET /partner/lists/:list": "a published list version is the city's (its digest and changes compose only whole); " +
		"look a firm's listing up in its credit file",
	"GET /partner/lists/:list/changes": "a published list version is the city's (its digest and changes compose only whole); " +
		"look a firm's listing up in its credit file",
	"POST /partner/check":         "the partner check answers for any firm of the city; look a firm's listing up in its credit file",
	"GET /partner/watches":        "watches are the partner departments' own, city-wide",
	"GET /partner/watches/events": "the watch feed carries the city's list changes",
}

// countyGate refuses a county-bound analyst key on a city-wide route
// (cityWideRoutes); every other caller passes, and other routes have no
// gate (nil).
func countyGate(method, path string) gin.HandlerFunc {
	why, cityWide := cityWideRoutes[method+" "+path]
	if !cityWide {
		return nil
	}
	return func(c *gin.Context) {
		cl := caller(c)
		if cl.Scope != ScopeAnalyst || boundCounty(cl) == "" {
			return
		}
		abort(c, http.StatusForbidden, codeCityWide,
			"key "+cl.Key+" is bound to county "+cl.Region+" and this route answers for the whole city: "+why+"; use a city-wide analyst key")
	}
}

// boundCounty is the county the caller's key is bound to, "" for an
// unbound or city (320800) key.
func boundCounty(cl Caller) string {
	if cl.Region == "" || cl.Region == model.CityHuaian {
		return ""
	}
	return cl.Region
}

// firmCovered reports whether the caller may see the firm uscc: by its
// current region in the read model, else (a firm the model does not know)
// by county, the region its row was published under.
func firmCovered(m *serving.Model, cl Caller, uscc model.USCC, county string) bool {
	if boundCounty(cl) == "" {
		return true
	}
	if f, ok := m.Firm(uscc); ok {
		return cl.Covers(f.Region)
	}
	return county != "" && cl.Covers(county)
}

// coveredTop is an assessment with the enterprises of its evidence that
// the caller may not see left out (a declared cluster may span counties).
// The read model's slice is never changed.
func coveredTop(m *serving.Model, cl Caller, a model.ClusterAssessment) model.ClusterAssessment {
	if boundCounty(cl) == "" {
		return a
	}
	top := make([]model.FirmEvidence, 0, len(a.Evidence.Top))
	for _, f := range a.Evidence.Top {
		if firmCovered(m, cl, f.USCC, "") {
			top = append(top, f)
		}
	}
	a.Evidence.Top = top
	return a
}

// clusterWithin reports whether every firm of cluster key lies in the
// caller's region: a county key reads a cluster's letter, which names its
// firms, only then.
func clusterWithin(m *serving.Model, cl Caller, key string) bool {
	within := true
	m.EachFirm(serving.FirmFilter{Cluster: key}, func(f serving.Firm) bool {
		within = cl.Covers(f.Region)
		return within
	})
	return within
}

// countyFigures are one county's share of the read model's grade
// breakdown, computed once per snapshot and county.
type countyFigures struct {
	breakdown   *serving.Breakdown
	enterprises int // registered or not, as Model.Enterprises counts them
}

// countyCache holds countyFigures per county for the current snapshot
// only: entries hold their snapshot weakly, so an old snapshot is freed.
type countyCache struct {
	mu      sync.Mutex
	entries map[string]countyEntry
}

type countyEntry struct {
	model   weak.Pointer[serving.Model]
	figures *countyFigures
}

// figures are county's figures in m, computed on first use per snapshot
// (a scan of the directory: about as long as the city breakdown's).
func (cc *countyCache) figures(m *serving.Model, county string) *countyFigures {
	cc.mu.Lock()
	e, ok := cc.entries[county]
	cc.mu.Unlock()
	if ok && e.model.Value() == m {
		return e.figures
	}
	f := computeCountyFigures(m, county)
	cc.mu.Lock()
	if cc.entries == nil {
		cc.entries = map[string]countyEntry{}
	}
	cc.entries[county] = countyEntry{model: weak.Make(m), figures: f}
	cc.mu.Unlock()
	return f
}

// computeCountyFigures groups county's registered firms as
// serving.Breakdown groups the city's: same keys, same order.
func computeCountyFigures(m *serving.Model, county string) *countyFigures {
	byCounty, industry, cluster, cross := map[string]*serving.GradeRow{}, map[string]*serving.GradeRow{}, map[string]*serving.GradeRow{}, map[string]*serving.GradeRow{}
	out := &countyFigures{}
	m.EachFirm(serving.FirmFilter{Region: county}, func(f serving.Firm) bool {
		out.enterprises++
		if f.Deregistered {
			return true
		}
		div := model.Division(f.Industry)
		addGrade(byCounty, f.Region, f.Grade)
		addGrade(industry, div, f.Grade)
		addGrade(cluster, f.ClusterKey(), f.Grade)
		addGrade(cross, f.Region+"|"+div, f.Grade)
		return true
	})
	out.breakdown = &serving.Breakdown{ByCounty: gradeRows(byCounty), ByIndustry: gradeRows(industry),
		ByCluster: gradeRows(cluster), ByCountyIndustry: gradeRows(cross)}
	return out
}

func addGrade(groups map[string]*serving.GradeRow, key string, g model.Grade) {
	r := groups[key]
	if r == nil {
		r = &serving.GradeRow{Key: key}
		groups[key] = r
	}
	if i := slices.Index(model.Grades, g); i >= 0 {
		r.Grades[i]++
	} else {
		r.Unscored++
	}
}

func gradeRows(groups map[string]*serving.GradeRow) []serving.GradeRow {
	out := make([]serving.GradeRow, 0, len(groups))
	for _, r := range groups {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b serving.GradeRow) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// breakdown is the grade breakdown the caller sees and the enterprises
// it counts: the city's, or the bound county's.
func (s *Server) breakdown(c *gin.Context, m *serving.Model) (*serving.Breakdown, int) {
	county := boundCounty(caller(c))
	if county == "" {
		return m.Breakdown(), m.Enterprises()
	}
	f := s.counties.figures(m, county)
	return f.breakdown, f.enterprises
}
