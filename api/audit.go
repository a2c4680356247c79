package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/warehouse"
)

// AuditStore is where the audit log lives: append-only, in the warehouse.
type AuditStore interface {
	AppendAudit(ctx context.Context, recs []warehouse.AuditRecord) error
	Audit(ctx context.Context, q warehouse.AuditQuery) ([]warehouse.AuditRecord, error)
}

// auditor records calls in a buffer and writes it to the warehouse every
// AuditFlush (ClickHouse wants few, large inserts), and on Close. A failed
// write is retried with the next flush; past maxAuditPending waiting
// records the oldest are dropped and counted
// (qcredit_api_audit_dropped_total): the API keeps answering while the
// warehouse is away.
type auditor struct {
	store   AuditStore
	log     *slog.Logger
	now     func() time.Time
	dropped prometheus.Counter

	mu      sync.Mutex // guards pending
	pending []warehouse.AuditRecord
	flushM  sync.Mutex // one flush at a time
}

const maxAuditPending = 200_000

// Parameters never recorded, whatever route they come with.
var secretParams = []string{"key", "token", "secret", "password", "contact", "authorization", "tracking"}

func (a *auditor) record(c *gin.Context, cl Caller, start time.Time) {
	r := warehouse.AuditRecord{ID: auditID(), At: start, Key: cl.Key, Scope: string(cl.Scope), Method: c.Request.Method,
		Route: c.FullPath(), Params: auditParams(c), Status: c.Writer.Status(), Items: -1, Detail: "{}",
		DurationMS: time.Since(start).Milliseconds()}
	if n, ok := c.Get(auditItemsKey); ok {
		r.Items, _ = n.(int)
	}
	if d, ok := c.Get(auditDetailKey); ok {
		if b, err := json.Marshal(d); err == nil {
			r.Detail = string(b)
		}
	}
	a.add(r)
}

// add buffers one record (a call, a webhook delivery).
func (a *auditor) add(r warehouse.AuditRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.pending) >= maxAuditPending {
		a.pending = slices.Delete(a.pending, 0, 1)
		a.dropped.Inc()
	}
	a.pending = append(a.pending, r)
}

func auditID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// auditParams are the path and query parameters as a JSON object (values of
// a repeated parameter joined by commas), secrets left out, at most 2 KiB.
func auditParams(c *gin.Context) string {
	m := map[string]string{}
	for _, p := range c.Params {
		m[p.Key] = p.Value
	}
	for k, v := range c.Request.URL.Query() {
		if !slices.Contains(secretParams, strings.ToLower(k)) {
			m[k] = strings.Join(v, ",")
		}
	}
	b, _ := json.Marshal(m)
	if len(b) > 2048 {
		b, _ = json.Marshal(map[string]string{"truncated": string(b[:2000])})
	}
	return string(b)
}

// flush writes the pending records.
func (a *auditor) flush(ctx context.Context) error {
	a.flushM.Lock()
	defer a.flushM.Unlock()
	a.mu.Lock()
	batch := a.pending
	a.pending = nil
	a.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := a.store.AppendAudit(ctx, batch); err != nil {
		a.mu.Lock()
		a.pending = append(batch, a.pending...) // retried with the next flush
		if n := len(a.pending) - maxAuditPending; n > 0 {
			a.pending = slices.Delete(a.pending, 0, n)
			a.dropped.Add(float64(n))
		}
		a.mu.Unlock()
		return err
	}
	return nil
}

func (a *auditor) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.flush(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("audit records not written yet; retrying", "err", err)
		}
	}
}

func (s *Server) adminRoutes() {
	s.handle("GET", "/audit", admins, s.listAudit)
}

// AuditList is a page of the audit log.
type AuditList struct {
	Items []AuditItem `json:"items"`
	// Next is the since of the following page, when this one is full.
	Next string `json:"next,omitempty"`
}

// AuditItem is one audited call, times in +08:00.
type AuditItem struct {
	warehouse.AuditRecord
	At     time.Time         `json:"at"`
	Params map[string]string `json:"params"`
	Detail map[string]any    `json:"detail"`
}

const maxAuditLimit = 1000

// listAudit answers GET /api/v1/audit?since=&until=&key=&scope=&route=&limit=.
// This replica's buffer is flushed first, so its own calls are in.
func (s *Server) listAudit(c *gin.Context) {
	format, exporting, xerr := exportParam(c)
	q, err := auditQuery(c, exporting)
	if err = errors.Join(xerr, err); err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	if err := s.audit.flush(c.Request.Context()); err != nil {
		s.log.Warn("audit flush before a read failed", "err", err)
	}
	recs, err := s.store.Audit(c.Request.Context(), q)
	if err != nil {
		s.internal(c, "audit", err)
		return
	}
	out := AuditList{Items: []AuditItem{}}
	for _, r := range recs {
		it := AuditItem{AuditRecord: r, At: local(r.At), Params: map[string]string{}, Detail: map[string]any{}}
		json.Unmarshal([]byte(r.Params), &it.Params)
		json.Unmarshal([]byte(r.Detail), &it.Detail)
		out.Items = append(out.Items, it)
	}
	if len(recs) == q.Limit {
		out.Next = local(recs[len(recs)-1].At.Add(time.Microsecond)).Format(time.RFC3339Nano)
	}
	if exporting { // up to limit records from since, as the page in JSON
		s.streamTable(c, format, "audit-"+dayOf(s.now()), auditColumns, func(w *export.Writer) error {
			for _, it := range out.Items {
				if err := w.Row(auditRow(it)...); err != nil {
					return err
				}
			}
			return nil
		})
		return
	}
	auditItems(c, len(out.Items))
	c.JSON(http.StatusOK, out)
}

// maxAuditExport bounds an export of the audit log (its records are read
// whole): past it, export again from the last record's time.
const maxAuditExport = 100_000

func auditQuery(c *gin.Context, exporting bool) (warehouse.AuditQuery, error) {
	q := warehouse.AuditQuery{Key: c.Query("key_name"), Scope: c.Query("scope"), Route: c.Query("route")}
	var errs []error
	var err error
	q.Since, err = timeParam(c, "since")
	errs = append(errs, err)
	q.Until, err = timeParam(c, "until")
	errs = append(errs, err)
	def, hi := 100, maxAuditLimit
	if exporting {
		def, hi = maxAuditExport, maxAuditExport
	}
	q.Limit, err = intParam(c, "limit", def, 1, hi)
	errs = append(errs, err)
	if q.Scope != "" {
		_, err := ParseScope(q.Scope)
		errs = append(errs, err)
	}
	errs = append(errs, q.Validate())
	return q, errors.Join(errs...)
}
