// Package api is the HTTP API (gin) under /api/v1: public lookups, partner
// lists, analyst queries, ingest, and the ops endpoints.
//
// Reads made many times a second (the public lookup) are answered from the
// read model (serving); the warehouse answers analysts' deep queries (the
// credit file).
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
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// Warehouse is what the API reads from the warehouse: the credit file.
type Warehouse interface {
	Ping(ctx context.Context) error
	Enterprise(ctx context.Context, uscc model.USCC) (model.Enterprise, error)
	Timeline(ctx context.Context, uscc model.USCC, limit int) ([]model.Event, error)
	Output(ctx context.Context, job string, version int, key string) (warehouse.OutputRow, error)
	OutputHistory(ctx context.Context, job string, uscc model.USCC, limit int) ([]warehouse.VersionedOutput, error)
	// Runs lists run records, newest first (the dashboards' latest runs).
	Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error)
}

// ReadModel is the read model the API answers frequent reads from.
type ReadModel interface {
	Current() *serving.Model
}

// Server serves the API.
type Server struct {
	store    Warehouse
	model    ReadModel
	ingest   func() ingest.Health
	log      *slog.Logger
	registry *prometheus.Registry
	engine   *gin.Engine
	requests *prometheus.HistogramVec
	// routeTable is every /api/v1 route with its scopes (handle).
	routeTable []Route
	// dev is the development-only session of `qcredit dev`, else nil.
	dev *devSession
}

// Options configure a Server.
type Options struct {
	// Registry collects the process's metrics (ingest, pipelines, HTTP);
	// /metrics serves it. A new one is made when nil.
	Registry *prometheus.Registry
	// IngestHealth reports the Kafka ingest worker running in this process,
	// if any, on /readyz.
	IngestHealth func() ingest.Health
	// UI serves the dashboards' pages and assets (dashboards.Handler); nil
	// serves none.
	UI http.Handler
	// DevSession admits the dashboards without a key (qcredit dev only).
	DevSession bool
}

// New builds the server and its routes.
func New(store Warehouse, rm ReadModel, log *slog.Logger, opts Options) *Server {
	gin.SetMode(gin.ReleaseMode)
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{store: store, model: rm, ingest: opts.IngestHealth, log: log, registry: reg, engine: gin.New()}
	if opts.DevSession {
		s.dev = newDevSession()
	}
	s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "qcredit_http_request_duration_seconds", Help: "HTTP requests by route and status.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"route", "status"})
	reg.MustRegister(s.requests)
	if err := reg.Register(collectors.NewGoCollector()); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		log.Warn("go collector", "err", err)
	}
	s.engine.HandleMethodNotAllowed = true // 405 with Allow, not 404, for a known path
	s.engine.Use(gin.Recovery(), s.observe)
	s.routes()
	s.uiRoutes(opts.UI)
	return s
}

// Handler is the http.Handler of the API.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() {
	r := s.engine
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))
	s.handle("GET", "/public/enterprises/:uscc", public, s.publicEnterprise)
	s.analystRoutes()
	s.dashboardRoutes()
	s.handle("GET", "/session", public, s.session)
	r.NoRoute(func(c *gin.Context) { abort(c, http.StatusNotFound, "not_found", "no such route") })
	r.NoMethod(func(c *gin.Context) {
		abort(c, http.StatusMethodNotAllowed, "method_not_allowed",
			c.Request.Method+" is not allowed here; allowed: "+c.Writer.Header().Get("Allow"))
	})
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
// answers and the read model is loaded; an ingest worker that is retrying
// a failing broker makes it "degraded" but still ready: lookups and
// analysts' routes keep working.
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
	if s.model.Current() == nil {
		abort(c, http.StatusServiceUnavailable, "read_model_loading", "the read model is still loading")
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

func (s *Server) internal(c *gin.Context, what string, err error) {
	s.log.Error(what, "path", c.Request.URL.Path, "err", err)
	abort(c, http.StatusInternalServerError, "internal", what+" failed")
}

// currentModel is the read model, or a 503 while it loads.
func (s *Server) currentModel(c *gin.Context) (*serving.Model, bool) {
	m := s.model.Current()
	if m == nil {
		abort(c, http.StatusServiceUnavailable, "read_model_loading", "the read model is still loading; retry in a few seconds")
		return nil, false
	}
	return m, true
}

// checkUSCC reads the :uscc parameter, or answers 400 with what is wrong.
func checkUSCC(c *gin.Context) (model.USCC, bool) {
	code := c.Param("uscc")
	if r := (model.USCCPolicy{}).Check(code); !r.Valid() {
		abort(c, http.StatusBadRequest, "invalid_uscc", r.Err().Error())
		return "", false
	}
	return model.USCC(code), true
}

// local is t in the bureau's time zone, so the API's times read +08:00.
func local(t time.Time) time.Time { return t.In(model.Shanghai) }
