package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// PartnerStore keeps partners' watches, webhooks and deliveries as
// append-only records in the warehouse, so every replica sees them.
type PartnerStore interface {
	AppendPartnerRecords(ctx context.Context, recs []warehouse.PartnerRecord) error
	PartnerRecords(ctx context.Context, q warehouse.PartnerQuery) ([]warehouse.PartnerRecord, error)
}

// Watch limits.
const (
	maxWatchChange = 1000    // USCCs added or removed per request
	maxWatched     = 100_000 // USCCs one partner watches
	maxFeedPage    = 1000
)

// partnerState is one partner's watches and webhook, derived from its records.
type partnerState struct {
	watched []model.USCC // sorted
	hookURL string
	secret  string
}

func (p *partnerState) watches(u model.USCC) bool {
	_, ok := slices.BinarySearch(p.watched, u)
	return ok
}

// partnerRing holds every partner's state, reloaded from the warehouse every
// KeyRefresh (a watch registered on another replica holds here by then)
// and at once after a change made here.
type partnerRing struct {
	store PartnerStore
	mu    sync.Mutex // one reload at a time
	cur   atomic.Pointer[map[string]*partnerState]
}

var settingKinds = []warehouse.PartnerKind{warehouse.PartnerWatch, warehouse.PartnerUnwatch, warehouse.PartnerWebhook,
	warehouse.PartnerWebhookRemoved}

func (p *partnerRing) reload(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	recs, err := p.store.PartnerRecords(ctx, warehouse.PartnerQuery{Kinds: settingKinds})
	if err != nil {
		return fmt.Errorf("reload partners: %w", err)
	}
	next := resolvePartners(recs)
	p.cur.Store(&next)
	return nil
}

// resolvePartners replays records in time order: the latest watch or
// unwatch of a USCC decides, the latest webhook or its removal.
func resolvePartners(recs []warehouse.PartnerRecord) map[string]*partnerState {
	watching := map[string]map[model.USCC]bool{}
	out := map[string]*partnerState{}
	for _, r := range recs {
		st := out[r.Partner]
		if st == nil {
			st = &partnerState{}
			out[r.Partner], watching[r.Partner] = st, map[model.USCC]bool{}
		}
		switch r.Kind {
		case warehouse.PartnerWatch:
			watching[r.Partner][model.USCC(r.Key)] = true
		case warehouse.PartnerUnwatch:
			delete(watching[r.Partner], model.USCC(r.Key))
		case warehouse.PartnerWebhook:
			st.hookURL, st.secret = r.Key, r.Value
		case warehouse.PartnerWebhookRemoved:
			st.hookURL, st.secret = "", ""
		}
	}
	for p, set := range watching {
		for u := range set {
			out[p].watched = append(out[p].watched, u)
		}
		slices.Sort(out[p].watched)
	}
	return out
}

// of is a partner's state (empty when it has none).
func (p *partnerRing) of(name string) *partnerState {
	if m := p.cur.Load(); m != nil {
		if st := (*m)[name]; st != nil {
			return st
		}
	}
	return &partnerState{}
}

// all is every partner's state.
func (p *partnerRing) all() map[string]*partnerState {
	if m := p.cur.Load(); m != nil {
		return *m
	}
	return nil
}

// Watches is a partner's watch list and webhook (never its secret).
type Watches struct {
	USCCs   []model.USCC `json:"usccs"`
	Webhook *Webhook     `json:"webhook"`
}

// Webhook is where a partner's watched changes are posted. Secret is shown
// only when the webhook is set.
type Webhook struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

func (s *Server) watches(c *gin.Context) {
	st := s.partners.of(caller(c).Key)
	out := Watches{USCCs: st.watched}
	if out.USCCs == nil {
		out.USCCs = []model.USCC{}
	}
	if st.hookURL != "" {
		out.Webhook = &Webhook{URL: st.hookURL}
	}
	auditItems(c, len(out.USCCs))
	c.JSON(http.StatusOK, out)
}

// WatchChange adds and removes watched USCCs.
type WatchChange struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

func (s *Server) changeWatches(c *gin.Context) {
	var q WatchChange
	if err := c.ShouldBindJSON(&q); err != nil {
		abort(c, http.StatusBadRequest, "invalid_body", `the body must be {"add": ["…"], "remove": ["…"]}: `+err.Error())
		return
	}
	partner := caller(c).Key
	recs, err := s.watchRecords(partner, q)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}
	if err := s.store.AppendPartnerRecords(c.Request.Context(), recs); err != nil {
		s.internal(c, "change watches", err)
		return
	}
	if err := s.partners.reload(c.Request.Context()); err != nil {
		s.internal(c, "change watches", err)
		return
	}
	auditItems(c, len(recs))
	s.watches(c)
}

// watchRecords are the records of a change, checked: valid USCCs, at most
// maxWatchChange of them, at most maxWatched watched in the end. Adds come
// before removes (a USCC in both ends unwatched), each record a microsecond
// after the one before, so every replica replays them in this order.
func (s *Server) watchRecords(partner string, q WatchChange) ([]warehouse.PartnerRecord, error) {
	if n := len(q.Add) + len(q.Remove); n == 0 || n > maxWatchChange {
		return nil, fmt.Errorf("give 1 to %d USCCs to add or remove, not %d", maxWatchChange, n)
	}
	now := s.now()
	var recs []warehouse.PartnerRecord
	var bad []string
	after := map[model.USCC]bool{}
	for _, u := range s.partners.of(partner).watched {
		after[u] = true
	}
	for _, ch := range []struct {
		codes []string
		kind  warehouse.PartnerKind
	}{{q.Add, warehouse.PartnerWatch}, {q.Remove, warehouse.PartnerUnwatch}} {
		for _, u := range ch.codes {
			if r := (model.USCCPolicy{}).Check(u); !r.Valid() {
				bad = append(bad, fmt.Sprintf("%q (%v)", u, r.Err()))
				continue
			}
			after[model.USCC(u)] = ch.kind == warehouse.PartnerWatch
			recs = append(recs, warehouse.PartnerRecord{Partner: partner, Kind: ch.kind, Key: u, At: now.Add(time.Duration(len(recs)) * time.Microsecond)})
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("not valid codes: %s", strings.Join(bad, "; "))
	}
	n := 0
	for _, on := range after {
		if on {
			n++
		}
	}
	if n > maxWatched {
		return nil, fmt.Errorf("a partner watches at most %d firms; this would make %d", maxWatched, n)
	}
	return recs, nil
}

// setWebhook sets where watched changes are posted and a new signing
// secret, shown once. Deliveries start with the changes published next.
func (s *Server) setWebhook(c *gin.Context) {
	var q Webhook
	if err := c.ShouldBindJSON(&q); err != nil {
		abort(c, http.StatusBadRequest, "invalid_body", `the body must be {"url": "https://…"}: `+err.Error())
		return
	}
	u, err := url.Parse(q.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		abort(c, http.StatusBadRequest, "invalid_body", fmt.Sprintf("url %q must be an absolute http or https URL", q.URL))
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	partner, now := caller(c).Key, s.now()
	recs := []warehouse.PartnerRecord{{Partner: partner, Kind: warehouse.PartnerWebhook, Key: q.URL, Value: hex.EncodeToString(secret), At: now}}
	if p := m.Lists(); p != nil && p.FeedEnd() != "" {
		recs = append(recs, warehouse.PartnerRecord{Partner: partner, Kind: warehouse.PartnerDelivered, Key: p.FeedEnd(), At: now})
	}
	if err := s.store.AppendPartnerRecords(c.Request.Context(), recs); err != nil {
		s.internal(c, "set webhook", err)
		return
	}
	if err := s.partners.reload(c.Request.Context()); err != nil {
		s.internal(c, "set webhook", err)
		return
	}
	auditDetail(c, "webhook_host", u.Host)
	c.JSON(http.StatusOK, Webhook{URL: q.URL, Secret: hex.EncodeToString(secret)})
}

func (s *Server) removeWebhook(c *gin.Context) {
	rec := warehouse.PartnerRecord{Partner: caller(c).Key, Kind: warehouse.PartnerWebhookRemoved, At: s.now()}
	if err := s.store.AppendPartnerRecords(c.Request.Context(), []warehouse.PartnerRecord{rec}); err != nil {
		s.internal(c, "remove webhook", err)
		return
	}
	if err := s.partners.reload(c.Request.Context()); err != nil {
		s.internal(c, "remove webhook", err)
		return
	}
	c.Status(http.StatusNoContent)
}

// WatchEvents is a page of the watch feed.
type WatchEvents struct {
	Cursor     string              `json:"cursor"`
	NextCursor string              `json:"next_cursor"`
	More       bool                `json:"more"`
	Events     []serving.FeedEvent `json:"events"`
}

// watchEvents is the listing changes of the partner's watched firms after
// ?cursor= (replayable: the same cursor gives the same events).
func (s *Server) watchEvents(c *gin.Context) {
	limit, err := intParam(c, "limit", 100, 1, maxFeedPage)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	cursor := c.Query("cursor")
	p := m.Lists()
	if p == nil {
		c.JSON(http.StatusOK, WatchEvents{Cursor: cursor, NextCursor: cursor, Events: []serving.FeedEvent{}})
		return
	}
	st := s.partners.of(caller(c).Key)
	page, err := p.Feed(cursor, st.watches, limit)
	switch {
	case errors.Is(err, serving.ErrNotRetained):
		abort(c, http.StatusGone, codeNotRetained, err.Error())
		return
	case err != nil:
		abort(c, http.StatusBadRequest, "invalid_query", err.Error()+" (start with no cursor, or the next_cursor of a page)")
		return
	}
	for i := range page.Events {
		page.Events[i].PublishedAt = local(page.Events[i].PublishedAt)
	}
	auditItems(c, len(page.Events))
	auditDetail(c, "cursor", cursor)
	auditDetail(c, "next_cursor", page.Next)
	auditFeedVersions(c, page.Events)
	c.JSON(http.StatusOK, WatchEvents{Cursor: cursor, NextCursor: page.Next, More: page.More, Events: page.Events})
}

// auditFeedVersions records, per list a feed page's events come from, the
// latest version among them (version_<list>, as a check records the version
// of each list it answered from): what the partner's copy reached.
func auditFeedVersions(c *gin.Context, events []serving.FeedEvent) {
	latest := map[model.List]int64{}
	for _, e := range events {
		latest[e.List] = max(latest[e.List], e.Version)
	}
	for l, v := range latest {
		auditDetail(c, "version_"+string(l), strconv.FormatInt(v, 10))
	}
}

// refreshPartners reloads the partners every KeyRefresh until ctx ends.
func (s *Server) refreshPartners(ctx context.Context) {
	t := time.NewTicker(s.opts.KeyRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.partners.reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("partners not reloaded; keeping the loaded ones", "err", err)
		}
	}
}
