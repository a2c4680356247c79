package api

import (
	"net/http"

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
	p := publicView(f)
	if run, ok := m.ScoreRun(); ok && f.Grade != "" {
		p.AsOf = run.AsOf
	}
	c.JSON(http.StatusOK, p)
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
