package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// HTTP ingest: POST /api/v1/events (scope ingest) takes a JSON array of
// events or NDJSON, decodes and validates each with the same ingest.Decoder
// as Kafka and files, and stores them through the same warehouse Write
// (dedupe, conflicts and dead letters included). Concurrent requests share
// warehouse writes (groupWriter). The answer says what became of each
// event, so a bureau can resend the same body safely: what was stored comes
// back as duplicate.

// EventWriter stores batches: the warehouse's Write.
type EventWriter interface {
	Write(ctx context.Context, b warehouse.Batch) (warehouse.WriteResult, error)
}

// Ingest limits.
const (
	// MaxIngestBody is the largest body POST /api/v1/events takes: 1,000
	// events are about 0.4 MiB.
	MaxIngestBody = 16 << 20
	// MaxIngestEvents is the most events in one body.
	MaxIngestEvents = 10_000
	// maxGroupEvents bounds one shared warehouse write.
	maxGroupEvents = 100_000
)

// EventStatus is what became of one event of an ingest body.
type EventStatus string

const (
	EventStatusStored       EventStatus = "stored"
	EventStatusDuplicate    EventStatus = "duplicate"     // already stored (a resend): nothing to do
	EventStatusDeadLettered EventStatus = "dead_lettered" // refused for its content: see reason; correct and resend
	EventStatusRefused      EventStatus = "refused"       // not this key's to report: not stored anywhere
)

// EventResult is one event's outcome; Index counts from 1 in body order.
type EventResult struct {
	Index  int                    `json:"index"`
	ID     string                 `json:"id,omitempty"`
	Status EventStatus            `json:"status"`
	Reason model.DeadLetterReason `json:"reason,omitempty"`
	Detail string                 `json:"detail,omitempty"`
}

// IngestResult answers POST /api/v1/events.
type IngestResult struct {
	Received     int           `json:"received"`
	Stored       int           `json:"stored"`
	Duplicates   int           `json:"duplicates"`
	DeadLettered int           `json:"dead_lettered"`
	Refused      int           `json:"refused"`
	Results      []EventResult `json:"results"`
}

// reasonForbiddenSource is the reason of a refused event.
const reasonForbiddenSource = "forbidden_source"

func (s *Server) ingestRoutes() {
	s.handle("POST", "/events", ingesters, s.postEvents)
}

func (s *Server) postEvents(c *gin.Context) {
	body, ok := readBody(c, MaxIngestBody)
	if !ok {
		return
	}
	raws, err := splitEvents(body, MaxIngestEvents)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}
	cl := caller(c)
	out, err := s.ingestRaw(c.Request.Context(), cl, raws)
	if err != nil {
		s.log.Warn("http ingest: warehouse write failed", "key", cl.Key, "events", len(raws), "err", err)
		abort(c, http.StatusServiceUnavailable, "warehouse_unavailable",
			"the events could not be stored now; resend the same body later (nothing is stored twice)")
		return
	}
	auditItems(c, out.Received)
	auditDetail(c, "stored", strconv.Itoa(out.Stored))
	auditDetail(c, "dead_lettered", strconv.Itoa(out.DeadLettered))
	c.JSON(http.StatusOK, out)
}

// ingestRaw decodes, checks and stores raw events for cl.
func (s *Server) ingestRaw(ctx context.Context, cl Caller, raws [][]byte) (IngestResult, error) {
	out := IngestResult{Received: len(raws), Results: make([]EventResult, len(raws))}
	var items []warehouse.Item
	var letters []model.DeadLetter
	var itemAt []int // the result index of each item
	for i, raw := range raws {
		origin := model.Origin{Kind: "http", Name: cl.Key, Position: strconv.Itoa(i + 1)}
		it, dl := s.decoder.Decode(raw, origin)
		r := &out.Results[i]
		r.Index = i + 1
		switch {
		case dl != nil:
			r.ID, r.Status, r.Reason, r.Detail = dl.EventID, EventStatusDeadLettered, dl.Reason, dl.Detail
			letters = append(letters, *dl)
		case !cl.Covers(it.Record.Source):
			r.ID, r.Status, r.Reason = it.Record.ID, EventStatusRefused, reasonForbiddenSource
			r.Detail = fmt.Sprintf("source %s is not %s's region (%s): report it with that bureau's key", it.Record.Source, cl.Key, cl.Region)
		default:
			r.ID = it.Record.ID
			items, itemAt = append(items, it), append(itemAt, i)
		}
	}
	outcomes, err := s.writer.write(ctx, items, letters)
	if err != nil {
		return out, err
	}
	for j, o := range outcomes {
		r := &out.Results[itemAt[j]]
		switch o {
		case outcomeStored:
			r.Status = EventStatusStored
		case outcomeDuplicate:
			r.Status = EventStatusDuplicate
		case outcomeConflict:
			r.Status, r.Reason = EventStatusDeadLettered, model.DeadLetterConflict
			r.Detail = fmt.Sprintf("event id %q is already stored with different content; send corrections as new events", r.ID)
		}
	}
	for _, r := range out.Results {
		switch r.Status {
		case EventStatusStored:
			out.Stored++
		case EventStatusDuplicate:
			out.Duplicates++
		case EventStatusDeadLettered:
			out.DeadLettered++
		case EventStatusRefused:
			out.Refused++
		}
		s.ingested.WithLabelValues(string(r.Status)).Inc()
	}
	return out, nil
}

// readBody reads the request body up to limit bytes, answering 413 past it.
func readBody(c *gin.Context, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		abort(c, http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the body is larger than %d bytes: send it in parts", limit))
		return nil, false
	case err != nil:
		abort(c, http.StatusBadRequest, "invalid_body", "the body could not be read: "+err.Error())
		return nil, false
	}
	return body, true
}

// itemOutcome is what a shared write did with one item.
type itemOutcome byte

const (
	outcomeStored itemOutcome = iota
	outcomeDuplicate
	outcomeConflict // dead-lettered
)

// groupWriter shares warehouse writes among concurrent requests (group
// commit): requests queue their items; one goroutine takes everything
// queued while the previous write ran and stores it as one batch, then
// tells each request what became of its items. Alone, a request is written
// at once; under load, writes grow instead of queueing up (DuckDB has one
// writer, and ClickHouse wants few large inserts).
type groupWriter struct {
	store EventWriter
	log   *slog.Logger
	jobs  chan *writeJob
	once  sync.Once
	stop  chan struct{}
	done  chan struct{}
}

type writeJob struct {
	items   []warehouse.Item
	letters []model.DeadLetter
	ctx     context.Context
	result  chan writeDone // buffered
}

type writeDone struct {
	outcomes []itemOutcome
	err      error
}

func newGroupWriter(store EventWriter, log *slog.Logger) *groupWriter {
	return &groupWriter{store: store, log: log, jobs: make(chan *writeJob, 256), stop: make(chan struct{}), done: make(chan struct{})}
}

// write stores items and letters with whatever else is queued, and says
// what became of each item.
func (g *groupWriter) write(ctx context.Context, items []warehouse.Item, letters []model.DeadLetter) ([]itemOutcome, error) {
	if len(items) == 0 && len(letters) == 0 {
		return nil, nil
	}
	j := &writeJob{items: items, letters: letters, ctx: ctx, result: make(chan writeDone, 1)}
	select {
	case g.jobs <- j:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-g.stop:
		return nil, errors.New("the server is shutting down")
	}
	// Once queued the job is written even if the client goes away (its
	// items may share a batch with others'): wait for it.
	d := <-j.result
	return d.outcomes, d.err
}

// groupLinger is how long a write waits for more requests when the last
// write was shared: clients that just had their answer are sending their
// next body (on the 2-core machine, 8 clients posting 1,000 events each:
// writes alternated between 7 bodies and 1, the 1 costing nearly as much
// as the 7; lingering makes them 8). A client alone never waits.
const groupLinger = 15 * time.Millisecond

func (g *groupWriter) run() {
	defer close(g.done)
	shared := false
	for {
		var first *writeJob
		select {
		case first = <-g.jobs:
		case <-g.stop:
			g.drain()
			return
		}
		group, n := []*writeJob{first}, len(first.items)
		var linger <-chan time.Time
		var timer *time.Timer
		if shared {
			timer = time.NewTimer(groupLinger)
			linger = timer.C
		}
	more:
		for n < maxGroupEvents {
			select {
			case j := <-g.jobs:
				group, n = append(group, j), n+len(j.items)
				continue
			default:
			}
			if linger == nil {
				break more
			}
			select {
			case j := <-g.jobs:
				group, n = append(group, j), n+len(j.items)
			case <-linger:
				break more
			case <-g.stop:
				break more
			}
		}
		if timer != nil {
			timer.Stop()
		}
		shared = len(group) > 1
		g.writeGroup(group)
	}
}

// drain writes what is queued at shutdown.
func (g *groupWriter) drain() {
	for {
		select {
		case j := <-g.jobs:
			g.writeGroup([]*writeJob{j})
		default:
			return
		}
	}
}

func (g *groupWriter) close() {
	g.once.Do(func() { close(g.stop) })
	<-g.done
}

// writeGroup stores the jobs as one batch. Outcomes follow the warehouse's
// rules: within the batch the first of an id is the one stored (later
// copies are duplicates, later different events conflicts); the first is
// a duplicate or conflict when Resent says its id was stored already.
func (g *groupWriter) writeGroup(group []*writeJob) {
	var b warehouse.Batch
	for _, j := range group {
		b.Items = append(b.Items, j.items...)
		b.DeadLetters = append(b.DeadLetters, j.letters...)
	}
	resent := map[string]bool{}
	var mu sync.Mutex
	b.Resent = func(id string, conflict bool) {
		mu.Lock()
		resent[id] = conflict
		mu.Unlock()
	}
	// The write runs under its own context: jobs of clients gone away are
	// written with the others, and a shutdown waits for it.
	start := time.Now()
	_, err := g.store.Write(context.WithoutCancel(group[0].ctx), b)
	g.log.Debug("http ingest: shared write", "requests", len(group), "events", len(b.Items),
		"dead_letters", len(b.DeadLetters), "took", time.Since(start), "err", err)
	first := map[string]uint64{}
	for _, j := range group {
		if err != nil {
			j.result <- writeDone{err: err}
			continue
		}
		out := make([]itemOutcome, len(j.items))
		for i, it := range j.items {
			id, h := it.Record.ID, it.Record.Hash
			if fh, seen := first[id]; seen {
				out[i] = outcomeDuplicate
				if fh != h {
					out[i] = outcomeConflict
				}
				continue
			}
			first[id] = h
			if conflict, ok := resent[id]; ok {
				out[i] = outcomeDuplicate
				if conflict {
					out[i] = outcomeConflict
				}
			}
		}
		j.result <- writeDone{outcomes: out}
	}
}

func newIngestMetrics(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qcredit_api_ingested_events_total",
		Help: "Events received over HTTP (POST /api/v1/events, public complaints), by what became of them."}, []string{"status"})
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("api metrics: %w", err)
	}
	return c, nil
}
