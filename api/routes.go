package api

import (
	"slices"

	"github.com/gin-gonic/gin"
)

// Scope is what an API key may do. Every route declares the scopes it
// accepts; ScopePublic routes need no key.
type Scope string

const (
	ScopePublic  Scope = "public"
	ScopeIngest  Scope = "ingest"
	ScopePartner Scope = "partner"
	ScopeAnalyst Scope = "analyst"
	ScopeAdmin   Scope = "admin"
)

// Route is one registered route and the scopes it accepts.
type Route struct {
	Method string
	Path   string // gin syntax: /api/v1/enterprises/:uscc
	Scopes []Scope
}

// handle registers a route under /api/v1 (path is relative to it) with the
// scopes it accepts. Every API route is registered this way, so the route
// table (Routes) is complete for the OpenAPI document and the scope tests.
func (s *Server) handle(method, path string, scopes []Scope, h ...gin.HandlerFunc) {
	s.register(method, path, scopes, []gin.HandlerFunc{s.limits, s.deadline}, h)
}

// handleFromMemory is handle for a route answered from the read model
// alone, many times a second: without a deadline to arm and disarm, since
// it waits on nothing.
func (s *Server) handleFromMemory(method, path string, scopes []Scope, h gin.HandlerFunc) {
	s.register(method, path, scopes, []gin.HandlerFunc{s.limits}, []gin.HandlerFunc{h})
}

// register adds the route: the request's checks, the caller's
// authorization and, on routes that answer for the whole city, the county
// gate, then the handlers.
func (s *Server) register(method, path string, scopes []Scope, checks, h []gin.HandlerFunc) {
	full := "/api/v1" + path
	s.routeTable = append(s.routeTable, Route{Method: method, Path: full, Scopes: slices.Clone(scopes)})
	chain := append(checks, s.authorize(scopes))
	if gate := countyGate(method, path); gate != nil {
		chain = append(chain, gate)
	}
	s.engine.Handle(method, full, append(chain, h...)...)
}

// Routes are the registered API routes, in registration order.
func (s *Server) Routes() []Route { return slices.Clone(s.routeTable) }

var (
	public    = []Scope{ScopePublic}
	analysts  = []Scope{ScopeAnalyst}
	admins    = []Scope{ScopeAdmin}
	ingesters = []Scope{ScopeIngest}
)

// Audit details a handler adds for the audit log (which records every
// non-public call): how many items it returned or took, and what it served
// (a list and its version, …).
const (
	auditItemsKey  = "qcredit.audit.items"
	auditDetailKey = "qcredit.audit.detail"
)

// auditItems records the number of items a call returned or took.
func auditItems(c *gin.Context, n int) { c.Set(auditItemsKey, n) }

// auditDetail records one detail of what a call served (never a secret or
// personal data).
func auditDetail(c *gin.Context, key, value string) {
	d, _ := c.Get(auditDetailKey)
	m, _ := d.(map[string]string)
	if m == nil {
		m = map[string]string{}
		c.Set(auditDetailKey, m)
	}
	m[key] = value
}
