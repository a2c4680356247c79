package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// The verifiable draws (摇号, 双随机; re-checks; agency assignments): published
// for anyone from the read model (the lottery job's current run), made by
// admins in two steps, with the inspector pool and the agency registry
// behind them.

var drawAdmins = []Scope{ScopeAdmin}

func (s *Server) drawRoutes() {
	s.handle("GET", "/public/draws", public, s.publicDraws)
	s.handle("GET", "/public/draws/:id", public, s.publicDraw)
	s.handle("GET", "/public/draws/:id/:file", public, s.publicDrawFile)

	s.handle("POST", "/admin/draws", drawAdmins, s.createDraw)
	s.handle("POST", "/admin/rechecks", drawAdmins, s.createRecheck)
	s.handle("POST", "/admin/assignments", drawAdmins, s.createAssignment)
	s.handle("POST", "/admin/draws/:id/draw", drawAdmins, s.drawDraw)
	s.handle("GET", "/admin/inspectors", drawAdmins, s.listInspectors)
	s.handle("PUT", "/admin/inspectors/:id", drawAdmins, s.putInspector)
	s.handle("DELETE", "/admin/inspectors/:id", drawAdmins, s.retireInspector)
	s.handle("GET", "/admin/agencies", drawAdmins, s.listAgencies)
	s.handle("PUT", "/admin/agencies/:id", drawAdmins, s.putAgency)
	s.handle("DELETE", "/admin/agencies/:id", drawAdmins, s.removeAgency)
}

// drawsPart is the lottery job's current outputs, or a 503 while the read
// model loads. Before the first draw there is none: an empty list.
func (s *Server) drawsPart(c *gin.Context) (*serving.Outputs, bool) {
	m, ok := s.currentModel(c)
	if !ok {
		return nil, false
	}
	return m.Outputs(pipelines.JobLottery), true
}

func (s *Server) publicDraws(c *gin.Context) {
	o, ok := s.drawsPart(c)
	if !ok {
		return
	}
	if o == nil {
		c.JSON(http.StatusOK, pipelines.DrawIndex{Draws: []pipelines.DrawListing{}})
		return
	}
	idx, _ := o.Get(pipelines.DrawIndexKey)
	c.Data(http.StatusOK, "application/json; charset=utf-8", idx.Payload)
}

// publicDraw is a draw's published document, byte for byte as the lottery
// job wrote it (its rules are the bytes rules_sha256 hashes).
func (s *Server) publicDraw(c *gin.Context) {
	o, ok := s.drawsPart(c)
	if !ok {
		return
	}
	row, ok := drawOutput(o, c.Param("id"))
	if !ok {
		abort(c, http.StatusNotFound, "draw_not_found", "no published draw "+c.Param("id")+" (see GET /api/v1/public/draws)")
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", row.Payload)
}

// publicDrawFile is one of a draw's files, exactly the bytes its *_sha256 hashes.
func (s *Server) publicDrawFile(c *gin.Context) {
	o, ok := s.drawsPart(c)
	if !ok {
		return
	}
	id, file := c.Param("id"), c.Param("file")
	row, ok := drawOutput(o, id)
	if !ok {
		abort(c, http.StatusNotFound, "draw_not_found", "no published draw "+id)
		return
	}
	files := pipelines.DrawKind(row.Label).Files()
	f, ok := o.Get(id + "/" + file)
	if !ok || !slices.Contains(files, file) {
		abort(c, http.StatusNotFound, "file_not_found", fmt.Sprintf("draw %s publishes %s, not %q", id, strings.Join(files, " and "), file))
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="%s-%s"`, id, file))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", f.Payload)
}

// drawOutput is a draw's document row (the key is a draw id, not a file or the index).
func drawOutput(o *serving.Outputs, id string) (warehouse.OutputRow, bool) {
	if o == nil || id == "" || strings.ContainsAny(id, "/_") {
		return warehouse.OutputRow{}, false
	}
	return o.Get(id)
}

// requireDraws answers 503 when this server was built without the draws.
func (s *Server) requireDraws(c *gin.Context) bool {
	if s.draws == nil {
		abort(c, http.StatusServiceUnavailable, "draws_unavailable", "this server does not make draws")
		return false
	}
	return true
}

// decodeJSON reads the request body into v, refusing unknown fields.
func decodeJSON(c *gin.Context, v any) bool {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, 1<<20))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_body", "the body must be a JSON object of the documented fields: "+err.Error())
		return false
	}
	return true
}

// who names the caller in a draw step's record: the admin API (which key
// called is in the audit log of the call).
func who(*gin.Context) string { return "api" }

// drawError answers a draw step's error with its status and code.
func (s *Server) drawError(c *gin.Context, what string, err error) {
	switch {
	case errors.Is(err, pipelines.ErrInvalid):
		abort(c, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, pipelines.ErrDrawNotFound):
		abort(c, http.StatusNotFound, "draw_not_found", err.Error())
	case errors.Is(err, pipelines.ErrNotRegistered):
		abort(c, http.StatusNotFound, "not_registered", err.Error())
	case errors.Is(err, pipelines.ErrDrawExists):
		abort(c, http.StatusConflict, "draw_exists", err.Error())
	case errors.Is(err, pipelines.ErrAlreadyDrawn):
		abort(c, http.StatusConflict, "already_drawn", err.Error())
	case errors.Is(err, pipelines.ErrNoFrame):
		abort(c, http.StatusConflict, "nothing_to_draw", err.Error())
	default:
		s.internal(c, what, err)
	}
}

func (s *Server) createDraw(c *gin.Context) {
	var r pipelines.CreateDrawRequest
	if !s.requireDraws(c) || !decodeJSON(c, &r) {
		return
	}
	r.By = who(c)
	out, err := s.draws.CreateDraw(c.Request.Context(), r)
	s.created(c, "create draw", out, err)
}

func (s *Server) createRecheck(c *gin.Context) {
	var r pipelines.CreateRecheckRequest
	if !s.requireDraws(c) || !decodeJSON(c, &r) {
		return
	}
	r.By = who(c)
	out, err := s.draws.CreateRecheck(c.Request.Context(), r)
	s.created(c, "create re-check", out, err)
}

func (s *Server) createAssignment(c *gin.Context) {
	var r pipelines.CreateAssignmentRequest
	if !s.requireDraws(c) || !decodeJSON(c, &r) {
		return
	}
	r.By = who(c)
	out, err := s.draws.CreateAssignment(c.Request.Context(), r)
	s.created(c, "create assignment", out, err)
}

func (s *Server) created(c *gin.Context, what string, out pipelines.CreatedDraw, err error) {
	if err != nil {
		s.drawError(c, what, err)
		return
	}
	auditDetail(c, "draw", out.ID)
	c.JSON(http.StatusCreated, out)
}

// DrawStep is the body of POST /admin/draws/{id}/draw.
type DrawStep struct {
	// Beacon is the beacon source's value as it was published.
	Beacon string `json:"beacon"`
}

func (s *Server) drawDraw(c *gin.Context) {
	var r DrawStep
	if !s.requireDraws(c) || !decodeJSON(c, &r) {
		return
	}
	out, err := s.draws.Draw(c.Request.Context(), c.Param("id"), r.Beacon, who(c))
	if err != nil {
		s.drawError(c, "draw", err)
		return
	}
	auditDetail(c, "draw", out.ID)
	c.JSON(http.StatusOK, out)
}

func (s *Server) listInspectors(c *gin.Context) {
	if !s.requireDraws(c) {
		return
	}
	list, err := s.draws.Registry().Inspectors(c.Request.Context())
	if err != nil {
		s.internal(c, "inspectors", err)
		return
	}
	auditItems(c, len(list))
	c.JSON(http.StatusOK, gin.H{"inspectors": nonNil(list)})
}

// InspectorBody is the body of PUT /admin/inspectors/{id}.
type InspectorBody struct {
	Name   string `json:"name"`
	County string `json:"county"`
}

func (s *Server) putInspector(c *gin.Context) {
	var b InspectorBody
	if !s.requireDraws(c) || !decodeJSON(c, &b) {
		return
	}
	e, err := s.draws.Registry().PutInspector(c.Request.Context(), pipelines.InspectorEntry{ID: c.Param("id"), Name: b.Name, County: b.County, By: who(c)})
	if err != nil {
		s.drawError(c, "put inspector", err)
		return
	}
	auditDetail(c, "inspector", e.ID)
	c.JSON(http.StatusOK, e)
}

func (s *Server) retireInspector(c *gin.Context) {
	if !s.requireDraws(c) {
		return
	}
	if err := s.draws.Registry().RetireInspector(c.Request.Context(), c.Param("id"), who(c)); err != nil {
		s.drawError(c, "retire inspector", err)
		return
	}
	auditDetail(c, "inspector", c.Param("id"))
	c.Status(http.StatusNoContent)
}

func (s *Server) listAgencies(c *gin.Context) {
	if !s.requireDraws(c) {
		return
	}
	list, err := s.draws.Registry().Agencies(c.Request.Context())
	if err != nil {
		s.internal(c, "agencies", err)
		return
	}
	auditItems(c, len(list))
	c.JSON(http.StatusOK, gin.H{"agencies": nonNil(list)})
}

// AgencyBody is the body of PUT /admin/agencies/{id}.
type AgencyBody struct {
	Name     string   `json:"name"`
	InCity   bool     `json:"in_city"`
	Products []string `json:"products"`
}

func (s *Server) putAgency(c *gin.Context) {
	var b AgencyBody
	if !s.requireDraws(c) || !decodeJSON(c, &b) {
		return
	}
	e, err := s.draws.Registry().PutAgency(c.Request.Context(), pipelines.AgencyEntry{ID: c.Param("id"), Name: b.Name, InCity: b.InCity,
		Products: b.Products, By: who(c)})
	if err != nil {
		s.drawError(c, "put agency", err)
		return
	}
	auditDetail(c, "agency", e.ID)
	c.JSON(http.StatusOK, e)
}

func (s *Server) removeAgency(c *gin.Context) {
	if !s.requireDraws(c) {
		return
	}
	if err := s.draws.Registry().RemoveAgency(c.Request.Context(), c.Param("id"), who(c)); err != nil {
		s.drawError(c, "remove agency", err)
		return
	}
	auditDetail(c, "agency", c.Param("id"))
	c.Status(http.StatusNoContent)
}

// nonNil makes a nil list an empty one, so JSON shows [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
