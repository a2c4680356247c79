package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Analysts' decisions: POST /api/v1/decisions (scope analyst) records one
// decision as the event the contract defines for it, built here: the id
// and occurred_at (now) are the server's, the source is the key's county
// (the city for a city-wide key). It goes through the same decoder and
// validator as HTTP ingest and the same shared write, so a run reads it
// under its watermark like any report. Invalid input is a 400 and stores
// nothing (no dead letter: the analyst reads the error and corrects it).

// DecisionTypes are the event types an analyst records (issues 12, 13, 15).
var DecisionTypes = []model.EventType{
	model.EventListingObjectionReceived, model.EventListingObjectionDecided,
	model.EventWarningAcknowledged, model.EventWarningActionRecorded,
	model.EventPlanSuggested,
}

// maxDecisionBody bounds a decision's body: a statement or note of a few
// thousand characters.
const maxDecisionBody = 32 << 10

// DecisionRequest is one decision: its event type, the enterprise it is
// about (objections only) and its data as the contract defines it. The
// server fills what it can: analyst (the key's name) on warnings,
// objection_id on an objection and suggestion_id on a plan suggestion
// when they are left out.
type DecisionRequest struct {
	Type model.EventType `json:"type"`
	USCC model.USCC      `json:"uscc,omitempty"`
	Data json.RawMessage `json:"data"`
}

// Decision is the event a decision was stored as.
type Decision struct {
	ID         string          `json:"id"`
	Type       model.EventType `json:"type"`
	USCC       model.USCC      `json:"uscc,omitempty"`
	Source     string          `json:"source"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

func (s *Server) decisionRoutes() {
	s.handle("POST", "/decisions", analysts, s.postDecision)
}

func (s *Server) postDecision(c *gin.Context) {
	body, ok := readBody(c, maxDecisionBody)
	if !ok {
		return
	}
	q, err := parseDecision(body)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_decision", err.Error())
		return
	}
	cl := caller(c)
	now := s.now().In(model.Shanghai).Truncate(time.Second)
	it, err := s.decisionEvent(q, cl, now)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_decision", err.Error())
		return
	}
	if !s.decisionAllowed(c, it.Record) {
		return
	}
	outcomes, err := s.writer.write(c.Request.Context(), []warehouse.Item{it}, nil)
	if err != nil {
		s.log.Warn("decision: warehouse write failed", "key", cl.Key, "id", it.Record.ID, "err", err)
		abort(c, http.StatusServiceUnavailable, "warehouse_unavailable", "the decision could not be stored now; send it again later")
		return
	}
	if outcomes[0] != outcomeStored {
		s.internal(c, "decision", fmt.Errorf("decision id %s was taken", it.Record.ID))
		return
	}
	s.ingested.WithLabelValues(string(EventStatusStored)).Inc()
	auditItems(c, 1)
	auditDetail(c, "type", string(it.Record.Type))
	auditDetail(c, "event", it.Record.ID)
	e := it.Record.Event
	c.JSON(http.StatusCreated, Decision{ID: e.ID, Type: e.Type, USCC: e.USCC, Source: e.Source, OccurredAt: local(e.OccurredAt), Data: e.Data})
}

// parseDecision reads a decision's body strictly: unknown fields, trailing
// data and types that are not analysts' decisions are refused.
func parseDecision(body []byte) (DecisionRequest, error) {
	var q DecisionRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return q, fmt.Errorf("the body is not a decision object {\"type\", \"uscc\", \"data\"}: %w", err)
	}
	if dec.More() {
		return q, errors.New("the body holds more than one object: send one decision per request")
	}
	if !slices.Contains(DecisionTypes, q.Type) {
		return q, fmt.Errorf("type %q is not an analyst's decision: want one of %s", q.Type, decisionTypeList())
	}
	if len(bytes.TrimSpace(q.Data)) == 0 || bytes.Equal(bytes.TrimSpace(q.Data), []byte("null")) {
		return q, fmt.Errorf("data is required: the fields of %s (README, the event contract)", q.Type)
	}
	return q, nil
}

func decisionTypeList() string {
	names := make([]string, len(DecisionTypes))
	for i, t := range DecisionTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// decisionEvent builds the decision's event and validates it as ingest
// does; the error says what to correct.
func (s *Server) decisionEvent(q DecisionRequest, cl Caller, now time.Time) (warehouse.Item, error) {
	var data map[string]json.RawMessage
	if err := json.Unmarshal(q.Data, &data); err != nil {
		return warehouse.Item{}, fmt.Errorf("data must be a JSON object: %w", err)
	}
	if err := knownFields(q.Type, data); err != nil {
		return warehouse.Item{}, err
	}
	localID, err := newDecisionID(now)
	if err != nil {
		return warehouse.Item{}, err
	}
	source := cl.Region
	if !model.IsHuaianBureau(source) {
		source = model.CityHuaian // a city-wide key (or the dev session)
	}
	fill := func(field, value string) {
		if _, ok := data[field]; !ok {
			data[field], _ = json.Marshal(value)
		}
	}
	switch q.Type {
	case model.EventWarningAcknowledged, model.EventWarningActionRecorded:
		fill("analyst", cl.Key)
	case model.EventListingObjectionReceived:
		fill("objection_id", localID)
	case model.EventPlanSuggested:
		fill("suggestion_id", localID)
	}
	e := map[string]any{"id": source + "-" + localID, "type": q.Type, "source": source,
		"occurred_at": now.Format(time.RFC3339), "data": data}
	if q.USCC != "" {
		e["uscc"] = q.USCC
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return warehouse.Item{}, err
	}
	it, dl := s.decoder.Decode(raw, model.Origin{Kind: "http", Name: cl.Key, Position: localID})
	if dl != nil {
		return warehouse.Item{}, errors.New(dl.Detail)
	}
	if q.Type == model.EventListingObjectionReceived && !strings.HasPrefix(it.Record.Facets.Link, string(it.Record.USCC)+":") {
		return warehouse.Item{}, fmt.Errorf("data.key %q is not a list entry of %s (keys read USCC:rule:case, as the credit file's listings show them)",
			it.Record.Facets.Link, it.Record.USCC)
	}
	return it, nil
}

// knownFields refuses data fields the type's contract does not have.
// Ingest keeps such fields (bureaus may send more facts); a decision is
// typed by an analyst, for whom an unknown field is a misspelt one.
func knownFields(t model.EventType, data map[string]json.RawMessage) error {
	spec := model.EventSpecs[t]
	var names []string
	for _, f := range spec.Fields {
		names = append(names, f.Name)
	}
	for _, name := range slices.Sorted(maps.Keys(data)) {
		if !slices.Contains(names, name) {
			return fmt.Errorf("data.%s is not a field of %s (%s)", name, t, strings.Join(names, ", "))
		}
	}
	return nil
}

// newDecisionID is the local part of a decision's event id (the source
// bureau's code is put before it): the day and 80 random bits.
func newDecisionID(now time.Time) (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("decision id: %w", err)
	}
	return "DEC-" + now.Format("20060102") + "-" + strings.ToUpper(keyEncoding.EncodeToString(b[:])), nil
}

// decisionAllowed checks what the decision is about: the enterprise or
// warning must exist (404) and be in the key's region (403); a decision on
// an objection must name one received for the enterprise (404). It
// answers itself when not.
func (s *Server) decisionAllowed(c *gin.Context, rec model.Record) bool {
	m, ok := s.currentModel(c)
	if !ok {
		return false
	}
	switch rec.Type {
	case model.EventWarningAcknowledged, model.EventWarningActionRecorded:
		id := rec.Facets.Link
		p := m.Clusters()
		if p == nil {
			abort(c, http.StatusNotFound, "warning_not_found", "no clusters run yet: no warning "+id)
			return false
		}
		w, found := p.Warning(id)
		if !found {
			abort(c, http.StatusNotFound, "warning_not_found", fmt.Sprintf("no warning %s in the current clusters run (closed warnings are kept a year)", id))
			return false
		}
		return analystCovers(c, w.County)
	case model.EventListingObjectionReceived, model.EventListingObjectionDecided:
		f, found := m.Firm(rec.USCC)
		if !found {
			abort(c, http.StatusNotFound, "enterprise_not_found", "no enterprise with USCC "+string(rec.USCC))
			return false
		}
		if !analystCovers(c, f.Region) {
			return false
		}
		if rec.Type == model.EventListingObjectionDecided {
			return s.objectionReceived(c, rec.USCC, rec.Facets.Ref)
		}
	}
	return true
}

// objectionReceived answers 404 unless the enterprise has the objection.
// A decision is rare: the warehouse is asked, not the read model.
func (s *Server) objectionReceived(c *gin.Context, uscc model.USCC, objectionID string) bool {
	found, err := s.hasObjection(c.Request.Context(), uscc, objectionID)
	if err != nil {
		s.internal(c, "objection lookup", err)
		return false
	}
	if !found {
		abort(c, http.StatusNotFound, "objection_not_found", fmt.Sprintf("%s has no objection %s: record it first (listing.objection_received)", uscc, objectionID))
	}
	return found
}

func (s *Server) hasObjection(ctx context.Context, uscc model.USCC, objectionID string) (bool, error) {
	events, err := s.store.Timeline(ctx, uscc, recordsLimit)
	if err != nil {
		return false, err
	}
	for _, o := range objections(events) {
		if o.ObjectionID == objectionID {
			return true, nil
		}
	}
	return false, nil
}
