// Package api is the HTTP API (gin) under /api/v1: public lookups, name
// search and complaints, partner lists, analyst queries and exports, HTTP
// ingest, the audit log, and the ops endpoints.
//
// Reads made many times a second (the public lookup and search) are
// answered from the read model (serving); the warehouse answers analysts'
// deep queries (the credit file).
//
// Adding routes (for every area's engineer):
//
//   - Register each route with s.handle(method, pathUnderAPIv1, scopes,
//     handler) in a file of your area and call your s.xxxRoutes() from
//     routes(). authorize then answers 401/403 with the standard error body,
//     rate-limits public routes and audits keyed calls; a handler adds to
//     its audit record with auditItems(c, n) and auditDetail(c, k, v), reads
//     its caller (key, scope, region) with caller(c), and restricts a
//     county-bound analyst with analystRegion / analystCovers.
//   - Errors: abort(c, status, code, message); internal failures: s.internal.
//   - Describe the routes in api/openapi/<area>.yaml: a fragment with paths
//     and components (schemas may $ref core.yaml's: Error, Time, Grade,
//     PublicEnterprise, …; responses: BadRequest, Unauthorized, Forbidden,
//     NotFound, RateLimited, TooLarge, Internal, Unavailable; parameters:
//     USCC, Region, Limit, Offset, Format). Tag each operation with its
//     scopes and list them in x-scopes; keyed routes need
//     security: [{bearer: []}] and 401 and 403 responses, public ones 429.
//     Fragments are merged at start (OpenAPI); a name defined twice
//     differently is an error. TestEveryRouteIsInTheContract checks the
//     route table against the document.
//   - Test through api/apitest: apitest.Start gives a real server with a key
//     of every scope and checks every response against the document.
//   - List views export with ?format=csv|xlsx|ndjson through streamTable and
//     api/export.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// Warehouse is what the API reads from and writes to the warehouse: the
// credit file, keys, the audit log.
type Warehouse interface {
	KeyStore
	AuditStore
	EventWriter
	ComplaintSource
	DeadLetterReader
	PartnerStore
	LeaseStore
	Ping(ctx context.Context) error
	Enterprise(ctx context.Context, uscc model.USCC) (model.Enterprise, error)
	Timeline(ctx context.Context, uscc model.USCC, limit int) ([]model.Event, error)
	Output(ctx context.Context, job string, version int, key string) (warehouse.OutputRow, error)
	OutputHistory(ctx context.Context, job string, uscc model.USCC, limit int) ([]warehouse.VersionedOutput, error)
	// Runs lists run records, newest first (the dashboards' latest runs).
	Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error)
	// KeyHistory is one output key's history across a job's runs (a
	// cluster's assessments over time).
	KeyHistory(ctx context.Context, job, key string, limit int) ([]warehouse.VersionedOutput, error)
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
	opts     Options
	now      func() time.Time
	registry *prometheus.Registry
	engine   *gin.Engine
	requests *prometheus.HistogramVec
	// routeTable is every /api/v1 route with its scopes (handle).
	routeTable []Route
	keys       keyRing
	partners   partnerRing
	public     *RateLimiter
	audit      *auditor
	decoder    ingest.Decoder
	writer     *groupWriter
	complaints *complaintBook
	ingested   *prometheus.CounterVec
	stop       context.CancelFunc
	done       sync.WaitGroup
	// draws makes the draws of the admin routes; nil: they answer 503.
	draws *pipelines.Lottery
	// dev is the development-only session of `qcredit dev`, else nil.
	dev     *devSession
	letters *letterPrinter
	// counties are the county keys' dashboard figures (county.go).
	counties countyCache
}

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// Registry collects the process's metrics (ingest, pipelines, HTTP);
	// /metrics serves it. A new one is made when nil.
	Registry *prometheus.Registry
	// IngestHealth reports the Kafka ingest worker running in this process,
	// if any, on /readyz.
	IngestHealth func() ingest.Health
	// Now is the clock (keys' expiry, rate limits); nil is time.Now.
	Now func() time.Time
	// KeyRefresh is how often keys are reloaded from the warehouse (default
	// 2 s): a key created or revoked on another replica holds here by then.
	KeyRefresh time.Duration
	// PublicRate limits the public routes per client address (default 10
	// requests a second, bursts of 50).
	PublicRate RateLimit
	// TrustedProxies are the addresses (or CIDR ranges) of reverse proxies
	// whose X-Forwarded-For names the client; none by default, so the
	// client is the connection's peer and cannot name itself.
	TrustedProxies []string
	// AuditFlush is how often audit records are written (default 1 s).
	AuditFlush time.Duration
	// RequestTimeout is the deadline of a request's work (default 30 s);
	// exports and pipeline triggers run to their end.
	RequestTimeout time.Duration
	// Runner runs the pipeline jobs triggered by analysts (nil: the
	// pipeline routes answer 503).
	Runner *pipelines.Runner
	// Decoder decodes and validates events of HTTP ingest and complaints,
	// as for Kafka and files (the zero value: the strict USCC policy).
	Decoder ingest.Decoder
	// UI serves the dashboards' pages and assets (dashboards.Handler); nil
	// serves none.
	UI http.Handler
	// DevSession admits the dashboards without a key (qcredit dev only):
	// a request with its cookie is an analyst (key name dev-session).
	DevSession bool
	// Draws makes the verifiable draws and keeps the inspector pool and
	// agency registry (the admin routes); nil leaves them unavailable.
	Draws *pipelines.Lottery
	// Chromium is the browser that prints warning letters to PDF: a path,
	// "" to look for chromium on PATH, or "off".
	Chromium string
	// WebhookInterval is how often partners' webhooks are served (default
	// 2 s); WebhookBackoff the wait after a failed delivery (default 1 s),
	// doubled per failure up to WebhookMaxBackoff (default 5 min).
	WebhookInterval   time.Duration
	WebhookBackoff    time.Duration
	WebhookMaxBackoff time.Duration
	// WebhookClient posts the deliveries; nil is a client with a 10 s timeout.
	WebhookClient *http.Client
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeyRefresh <= 0 {
		o.KeyRefresh = 2 * time.Second
	}
	if o.PublicRate == (RateLimit{}) {
		o.PublicRate = DefaultPublicRate
	}
	if o.AuditFlush <= 0 {
		o.AuditFlush = time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.WebhookInterval <= 0 {
		o.WebhookInterval = 2 * time.Second
	}
	if o.WebhookBackoff <= 0 {
		o.WebhookBackoff = time.Second
	}
	if o.WebhookMaxBackoff <= 0 {
		o.WebhookMaxBackoff = 5 * time.Minute
	}
	return o
}

// New builds the server and its routes and loads the keys. Its background
// work (reloading keys, writing the audit log) runs until Close.
func New(ctx context.Context, store Warehouse, rm ReadModel, log *slog.Logger, opts Options) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	opts = opts.withDefaults()
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{store: store, model: rm, ingest: opts.IngestHealth, log: log, opts: opts, now: opts.Now,
		registry: reg, engine: gin.New(), keys: keyRing{store: store}, partners: partnerRing{store: store}, public: NewRateLimiter(opts.PublicRate, opts.Now),
		draws: opts.Draws, letters: newLetterPrinter(opts.Chromium)}
	if opts.DevSession {
		s.dev = newDevSession()
	}
	s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "qcredit_http_request_duration_seconds", Help: "HTTP requests by route and status.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"route", "status"})
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_api_audit_dropped_total",
		Help: "Audit records dropped because the warehouse refused them for too long."})
	for _, c := range []prometheus.Collector{s.requests, dropped} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("api metrics: %w", err)
		}
	}
	if err := reg.Register(collectors.NewGoCollector()); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		log.Warn("go collector", "err", err)
	}
	s.audit = &auditor{store: store, log: log, now: opts.Now, dropped: dropped}
	s.decoder, s.writer = opts.Decoder, newGroupWriter(store, log)
	var err error
	if s.ingested, err = newIngestMetrics(reg); err != nil {
		return nil, err
	}
	if err := s.engine.SetTrustedProxies(opts.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	if err := s.ReloadKeys(ctx); err != nil {
		return nil, err
	}
	if err := s.partners.reload(ctx); err != nil {
		return nil, err
	}
	s.complaints = newComplaintBook(store, s.now)
	if err := s.complaints.register(reg); err != nil {
		return nil, fmt.Errorf("complaint metrics: %w", err)
	}
	if err := s.complaints.refresh(ctx); err != nil {
		return nil, err
	}
	s.engine.HandleMethodNotAllowed = true // 405 with Allow, not 404, for a known path
	s.engine.Use(gin.Recovery(), s.observe)
	s.routes()
	s.uiRoutes(opts.UI)
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	s.done.Add(5)
	go s.writer.run()
	go func() { defer s.done.Done(); s.refreshKeys(bg) }()
	go func() { defer s.done.Done(); s.refreshComplaints(bg) }()
	go func() { defer s.done.Done(); s.audit.run(bg, opts.AuditFlush) }()
	go func() { defer s.done.Done(); s.refreshPartners(bg) }()
	go func() { defer s.done.Done(); newWebhooks(s).run(bg) }()
	return s, nil
}

// Close stops the background work and writes the audit records still
// buffered. Call it after the HTTP server has shut down; calling it again
// writes what was recorded since.
func (s *Server) Close() error {
	s.writer.close()
	s.stop()
	s.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.audit.flush(ctx)
}

// Store is the warehouse the server uses.
func (s *Server) Store() Warehouse { return s.store }

// Handler is the http.Handler of the API.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() {
	r := s.engine
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))
	r.GET("/api/openapi.json", s.serveOpenAPI)
	s.handleFromMemory("GET", "/public/enterprises/:uscc", public, s.publicEnterprise)
	s.handleFromMemory("GET", "/public/enterprises", public, s.searchEnterprises)
	s.analystRoutes()
	s.ingestRoutes()
	s.deadLetterRoutes()
	s.complaintRoutes()
	s.pipelineRoutes()
	s.adminRoutes()
	s.drawRoutes()
	s.planningRoutes()
	s.dashboardRoutes()
	s.handle("GET", "/session", public, s.session)
	s.clusterRoutes()
	s.decisionRoutes()
	s.listRoutes()
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
