// Package api is the HTTP API (gin) under /api/v1: public lookups, partner
// lists, analyst queries, ingest, and the ops endpoints.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Server serves the API over one warehouse.
type Server struct {
	store    warehouse.Store
	ingest   func() ingest.Health
	log      *slog.Logger
	registry *prometheus.Registry
	engine   *gin.Engine
	requests *prometheus.HistogramVec
}

// Options configure a Server.
type Options struct {
	// Registry collects the process's metrics (ingest, pipelines, HTTP);
	// /metrics serves it. A new one is made when nil.
	Registry *prometheus.Registry
	// IngestHealth reports the Kafka ingest worker running in this process,
	// if any, on /readyz.
	IngestHealth func() ingest.Health
}

// New builds the server and its routes.
func New(store warehouse.Store, log *slog.Logger, opts Options) *Server {
	gin.SetMode(gin.ReleaseMode)
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{store: store, ingest: opts.IngestHealth, log: log, registry: reg, engine: gin.New()}
	s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "qcredit_http_request_duration_seconds", Help: "HTTP requests by route and status.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"route", "status"})
	reg.MustRegister(s.requests)
	if err := reg.Register(collectors.NewGoCollector()); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		log.Warn("go collector", "err", err)
	}
	s.engine.Use(gin.Recovery(), s.observe)
	s.routes()
	return s
}

// Handler is the http.Handler of the API.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() {
	r := s.engine
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))
	v1 := r.Group("/api/v1")
	v1.GET("/public/enterprises/:uscc", s.publicEnterprise)
	s.analystRoutes(v1)
	r.NoRoute(func(c *gin.Context) { abort(c, http.StatusNotFound, "not_found", "no such route") })
}

func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.requests.WithLabelValues(route, strconv.Itoa(c.Writer.Status())).Observe(time.Since(start).Seconds())
}

// Readiness is the body of /readyz. The API is ready when the warehouse
// answers; an ingest worker that is retrying a failing broker makes it
// "degraded" but still ready: lookups and analysts' routes keep working.
type Readiness struct {
	Status string         `json:"status"` // ready or degraded
	Ingest *ingest.Health `json:"ingest,omitempty"`
}

func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		abort(c, http.StatusServiceUnavailable, "warehouse_unavailable", err.Error())
		return
	}
	r := Readiness{Status: "ready"}
	if s.ingest != nil {
		h := s.ingest()
		r.Ingest = &h
		if h.Status != ingest.HealthOK {
			r.Status = "degraded"
		}
	}
	c.JSON(http.StatusOK, r)
}

// errorBody is the one JSON shape of every API error; code is stable.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func abort(c *gin.Context, status int, code, message string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	c.AbortWithStatusJSON(status, b)
}

// publicEnterprise is the public credit lookup of one enterprise by USCC.
func (s *Server) publicEnterprise(c *gin.Context) {
	code := c.Param("uscc")
	if r := (model.USCCPolicy{}).Check(code); !r.Valid() {
		abort(c, http.StatusBadRequest, "invalid_uscc", r.Err().Error())
		return
	}
	e, err := s.store.Enterprise(c.Request.Context(), model.USCC(code))
	switch {
	case errors.Is(err, warehouse.ErrNotFound):
		abort(c, http.StatusNotFound, "enterprise_not_found", "no enterprise with USCC "+code)
	case err != nil:
		s.log.Error("enterprise lookup", "uscc", code, "err", err)
		abort(c, http.StatusInternalServerError, "internal", "lookup failed")
	default:
		p := publicView(e)
		p.Grade = s.publicGrade(c, e.USCC)
		c.JSON(http.StatusOK, p)
	}
}

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
	// Grade is the latest quality-credit grade (A–D), empty before the first score run.
	Grade string `json:"grade,omitempty"`
}

func publicView(e model.Enterprise) PublicEnterprise {
	p := PublicEnterprise{USCC: e.USCC, Name: e.Name, Region: e.Region, Industry: e.Industry,
		Cluster: e.Cluster, Deregistered: e.Deregistered}
	if r, ok := model.LookupRegion(e.Region); ok {
		p.RegionName = r.Name
	}
	if i, ok := model.LookupIndustry(e.Industry); ok {
		p.IndustryName = i.Name
	} else if i, ok := model.LookupIndustry(model.Division(e.Industry)); ok {
		p.IndustryName = i.Name
	}
	return p
}
