package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// LeaseStore grants named leases in the warehouse: the webhook deliverer
// holds one, so with several replicas one of them delivers.
type LeaseStore interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Webhook deliveries. Each change of a watched firm is posted to the
// partner's URL as the feed's JSON event, with
//
//	Qcredit-Delivery: <the event's cursor>   (the same on a redelivery)
//	Qcredit-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the partner's secret>
//
// one at a time and in feed order; a failure (no 2xx within 10 s) is retried
// with backoff, the partner's later changes waiting behind it. With several
// replicas only the holder of the lease "webhooks" delivers, renewing it
// before every post; a change is recorded as delivered (the partner's
// cursor, in the warehouse) after the partner's 2xx. So each change is
// delivered once per partner, except after a crash between the 2xx and the
// record, or a lease lost during a post: then that one change comes again
// with the same Qcredit-Delivery, for the partner to recognise.
const webhookLease = "webhooks"

const (
	webhookLeaseTTL = 30 * time.Second
	webhookTimeout  = 10 * time.Second
	webhookPage     = 100
)

type webhooks struct {
	s       *Server
	client  *http.Client
	holder  string
	retries map[string]*webhookRetry // partner → its failing delivery; touched by the deliverer only
}

type webhookRetry struct {
	failures int
	next     time.Time
}

func newWebhooks(s *Server) *webhooks {
	b := make([]byte, 6)
	rand.Read(b)
	client := s.opts.WebhookClient
	if client == nil {
		client = &http.Client{Timeout: webhookTimeout}
	}
	return &webhooks{s: s, client: client, holder: "api-" + hex.EncodeToString(b), retries: map[string]*webhookRetry{}}
}

// run delivers every WebhookInterval until ctx ends, and gives the lease
// up when it does.
func (w *webhooks) run(ctx context.Context) {
	t := time.NewTicker(w.s.opts.WebhookInterval)
	defer t.Stop()
	defer w.s.store.ReleaseLease(context.WithoutCancel(ctx), webhookLease, w.holder)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.round(ctx); err != nil && ctx.Err() == nil {
			w.s.log.Warn("webhook deliveries", "err", err)
		}
	}
}

// round delivers what is due to every partner with a webhook, while this
// replica holds the lease.
func (w *webhooks) round(ctx context.Context) error {
	var p *serving.ListsPart
	if m := w.s.model.Current(); m != nil {
		p = m.Lists()
	}
	all := w.s.partners.all()
	names := make([]string, 0, len(all))
	for name, st := range all {
		if st.hookURL != "" {
			names = append(names, name)
		}
	}
	if p == nil || len(names) == 0 {
		return nil
	}
	if held, err := w.s.store.AcquireLease(ctx, webhookLease, w.holder, webhookLeaseTTL); err != nil || !held {
		return err
	}
	slices.Sort(names)
	now := time.Now() // backoff waits real time, whatever the API's clock says
	for _, name := range names {
		if r := w.retries[name]; r != nil && now.Before(r.next) {
			continue
		}
		if err := w.deliver(ctx, p, name, all[name]); err != nil {
			return err
		}
	}
	return nil
}

// deliver posts the partner's changes after its delivered cursor, stopping
// at the first failure (retried later) or when the lease is lost.
func (w *webhooks) deliver(ctx context.Context, p *serving.ListsPart, partner string, st *partnerState) error {
	recs, err := w.s.store.PartnerRecords(ctx, warehouse.PartnerQuery{Partner: partner,
		Kinds: []warehouse.PartnerKind{warehouse.PartnerDelivered}, Latest: true})
	if err != nil {
		return err
	}
	cursor := ""
	if len(recs) > 0 {
		cursor = recs[0].Key
	}
	for {
		page, err := p.Feed(cursor, st.watches, webhookPage)
		if err != nil {
			// Past retention (the partner's endpoint failed for the whole of
			// it): nothing to deliver from; the partner must pull snapshots.
			w.s.log.Error("webhook: the partner's cursor is no longer in the feed", "partner", partner, "cursor", cursor, "err", err)
			w.backoff(partner)
			return nil
		}
		for _, e := range page.Events {
			if held, err := w.s.store.AcquireLease(ctx, webhookLease, w.holder, webhookLeaseTTL); err != nil || !held {
				return err
			}
			if !w.post(ctx, partner, st, e) {
				w.backoff(partner)
				return nil
			}
			delete(w.retries, partner)
			if err := w.delivered(ctx, partner, e.Cursor); err != nil {
				return err
			}
		}
		if len(page.Events) == 0 && page.Next != cursor {
			// Versions passed without a change of a watched firm: move on
			// from them, so they are not looked at again.
			if err := w.delivered(ctx, partner, page.Next); err != nil {
				return err
			}
		}
		if !page.More {
			return nil
		}
		cursor = page.Next
	}
}

func (w *webhooks) delivered(ctx context.Context, partner, cursor string) error {
	return w.s.store.AppendPartnerRecords(ctx, []warehouse.PartnerRecord{{Partner: partner, Kind: warehouse.PartnerDelivered,
		Key: cursor, At: w.s.now()}})
}

// backoff schedules the partner's next attempt: WebhookBackoff doubled per
// failure, at most WebhookMaxBackoff.
func (w *webhooks) backoff(partner string) {
	r := w.retries[partner]
	if r == nil {
		r = &webhookRetry{}
		w.retries[partner] = r
	}
	delay := w.s.opts.WebhookBackoff << min(r.failures, 20)
	r.failures++
	r.next = time.Now().Add(min(delay, w.s.opts.WebhookMaxBackoff))
}

// Sign is the Qcredit-Signature of a webhook body: "sha256=" and the hex
// HMAC-SHA256 of the body keyed by the partner's secret (its text).
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// post sends one event and audits it; true on a 2xx.
func (w *webhooks) post(ctx context.Context, partner string, st *partnerState, e serving.FeedEvent) bool {
	e.PublishedAt = local(e.PublishedAt)
	body, err := json.Marshal(e)
	if err != nil {
		w.s.log.Error("webhook: encode", "err", err)
		return false
	}
	start := w.s.now()
	status := 0
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.hookURL, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Qcredit-Delivery", e.Cursor)
		req.Header.Set("Qcredit-Signature", Sign(st.secret, body))
		var resp *http.Response
		if resp, err = w.client.Do(req); err == nil {
			resp.Body.Close()
			status = resp.StatusCode
		}
	}
	ok := err == nil && status >= 200 && status < 300
	if !ok {
		w.s.log.Warn("webhook delivery failed; retrying later", "partner", partner, "cursor", e.Cursor, "status", status, "err", err)
	}
	w.audit(partner, st.hookURL, e, status, start)
	return ok
}

// audit records a delivery like a call: the partner, the list, version and
// change, the partner's answer (0: none).
func (w *webhooks) audit(partner, hook string, e serving.FeedEvent, status int, start time.Time) {
	host := hook
	if u, err := url.Parse(hook); err == nil {
		host = u.Host
	}
	params, _ := json.Marshal(map[string]string{"host": host})
	detail, _ := json.Marshal(map[string]string{"list": string(e.List), "version": fmt.Sprint(e.Version), "cursor": e.Cursor,
		"op": string(e.Op), "key": e.Key})
	w.s.audit.add(warehouse.AuditRecord{ID: auditID(), At: start, Key: partner, Scope: string(ScopePartner), Method: http.MethodPost,
		Route: "webhook", Params: string(params), Status: status, Items: 1, Detail: string(detail),
		DurationMS: w.s.now().Sub(start).Milliseconds()})
}
