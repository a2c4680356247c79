package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// Listings is an enterprise's listing history in its credit file.
type Listings struct {
	// RunID and AsOf are the current lists run's.
	RunID string `json:"run_id,omitempty"`
	AsOf  string `json:"as_of,omitempty"`
	// Entries are the firm's serious-list entries as the current lists run
	// decided them, in every state: pending (拟列入), listed, removed (with
	// 移出原因, 移出日期, 移出机关) and not listed (an objection upheld, a
	// penalty revoked in the notice period).
	Entries []model.ListEntry `json:"entries"`
	// Published is what the retained list versions published about the
	// firm, on both lists: each entry as published from one version to the
	// version that changed it (to_version 0: still published), and the
	// removals with the version that made them.
	Published []PublishedListing `json:"published"`
	// Objections are the firm's objections (陈述申辩) and their decisions.
	Objections []Objection `json:"objections"`
	// Reviews are the firm's records the rules could not settle alone.
	Reviews []json.RawMessage `json:"reviews"`
}

// PublishedListing is one entry as the list versions published it.
type PublishedListing struct {
	List        model.List      `json:"list"`
	FromVersion int64           `json:"from_version"`
	ToVersion   int64           `json:"to_version"`
	Entry       model.ListEntry `json:"entry"`
}

// Objection is a listing.objection_received and its latest decision.
type Objection struct {
	ObjectionID string     `json:"objection_id"`
	Key         string     `json:"key"`
	Statement   string     `json:"statement,omitempty"`
	ReceivedAt  time.Time  `json:"received_at"`
	Event       string     `json:"event"`
	Outcome     string     `json:"outcome,omitempty"` // upheld or rejected; empty while undecided
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	DecisionNo  string     `json:"decision_no,omitempty"`
}

// listings builds the credit file's listing history from the current lists
// run's outputs of the firm, the read model's versions and the firm's
// objection records.
func (s *Server) listings(ctx context.Context, m *serving.Model, uscc model.USCC, events []model.Event, hist []warehouse.VersionedOutput) (*Listings, error) {
	out := &Listings{Entries: []model.ListEntry{}, Published: []PublishedListing{}, Objections: objections(events),
		Reviews: []json.RawMessage{}}
	if p := m.Lists(); p != nil {
		out.RunID, out.AsOf = p.Run.ID, p.Run.AsOf
		if err := s.runListings(ctx, p.Run, hist, out); err != nil {
			return nil, err
		}
		for _, l := range model.Lists {
			if h := p.History(l); h != nil {
				for _, fl := range h.FirmHistory(uscc) {
					out.Published = append(out.Published, PublishedListing{List: l, FromVersion: fl.From, ToVersion: fl.To, Entry: fl.Entry})
				}
			}
		}
	}
	return out, nil
}

// runListings reads the firm's entries and reviews of a lists run, from the
// firm's outputs of every lists run (read with the rest of the credit file).
func (s *Server) runListings(ctx context.Context, run warehouse.Run, hist []warehouse.VersionedOutput, out *Listings) error {
	entryPrefix := model.ListOutputKey(model.ListKeyEntry, model.ListDishonest, "") + "/"
	for _, h := range hist {
		if h.Run.ID != run.ID || (!strings.HasPrefix(h.Key, entryPrefix) && !strings.HasPrefix(h.Key, model.ListKeyReview)) {
			continue
		}
		o, err := s.store.Output(ctx, run.Job, run.Version, h.Key)
		if err != nil {
			return fmt.Errorf("listing %s of %s: %w", h.Key, run.ID, err)
		}
		if strings.HasPrefix(h.Key, model.ListKeyReview) {
			out.Reviews = append(out.Reviews, o.Payload)
			continue
		}
		var e model.ListEntry
		if err := json.Unmarshal(o.Payload, &e); err != nil {
			return fmt.Errorf("listing %s of %s: %w", h.Key, run.ID, err)
		}
		out.Entries = append(out.Entries, e)
	}
	slices.SortFunc(out.Entries, model.CompareListEntries)
	return nil
}

// objections pairs the firm's objection records with their latest decision.
func objections(events []model.Event) []Objection {
	out := []Objection{}
	byID := map[string]int{}
	type data struct {
		ObjectionID string `json:"objection_id"`
		Key         string `json:"key"`
		Statement   string `json:"statement"`
		Outcome     string `json:"outcome"`
		DecisionNo  string `json:"decision_no"`
	}
	for _, e := range events { // the timeline is in (occurred_at, id) order: the latest decision comes last
		var d data
		if e.Type != model.EventListingObjectionReceived && e.Type != model.EventListingObjectionDecided || json.Unmarshal(e.Data, &d) != nil {
			continue
		}
		if e.Type == model.EventListingObjectionReceived {
			byID[d.ObjectionID] = len(out)
			out = append(out, Objection{ObjectionID: d.ObjectionID, Key: d.Key, Statement: d.Statement, ReceivedAt: local(e.OccurredAt), Event: e.ID})
			continue
		}
		if i, ok := byID[d.ObjectionID]; ok {
			at := local(e.OccurredAt)
			out[i].Outcome, out[i].DecidedAt, out[i].DecisionNo = d.Outcome, &at, d.DecisionNo
		}
	}
	return out
}
