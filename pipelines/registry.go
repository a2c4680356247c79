package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/warehouse"
)

// The inspector pool (执法检查人员) and the testing-agency registry (承检机构),
// kept as planning records: every change is a record, the current state
// the latest record of each id. Inspectors are published by id and county
// only; their names stay inside the bureau.

// InspectorEntry is one inspector of the pool.
type InspectorEntry struct {
	ID string `json:"id"`
	// Name is for the bureau's own screens; never published.
	Name   string `json:"name,omitempty"`
	County string `json:"county"`
	// Retired inspectors are kept for the audit but drawn no more.
	Retired bool   `json:"retired,omitempty"`
	By      string `json:"by,omitempty"`
}

// Validate says what is wrong with the entry.
func (e InspectorEntry) Validate() error {
	return planning.ValidateInspector(planning.Inspector{ID: e.ID, County: e.County})
}

// AgencyEntry is one testing agency of the registry and the products it is
// qualified to test (as spot checks name them).
type AgencyEntry struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	InCity   bool     `json:"in_city"`
	Products []string `json:"products"`
	Removed  bool     `json:"removed,omitempty"`
	By       string   `json:"by,omitempty"`
}

// Validate says what is wrong with the entry.
func (e AgencyEntry) Validate() error {
	if e.Removed {
		return planning.ValidateID("agency id", e.ID)
	}
	return planning.Agency{ID: e.ID, Name: e.Name, InCity: e.InCity, Products: e.Products}.Validate()
}

// Registry manages the inspector pool and the agency registry.
type Registry struct {
	store PlanningRecords
}

// NewRegistry is the registry over the warehouse's planning records.
func NewRegistry(store PlanningRecords) *Registry { return &Registry{store: store} }

// ErrNotRegistered is returned for an inspector or agency id the registry does not hold.
var ErrNotRegistered = errors.New("not registered")

// PutInspector adds an inspector or changes one (name, county).
func (r *Registry) PutInspector(ctx context.Context, e InspectorEntry) (InspectorEntry, error) {
	e.Retired = false
	if err := e.Validate(); err != nil {
		return e, invalid(err)
	}
	return e, r.put(ctx, warehouse.RecordKindInspector, e.ID, e)
}

// RetireInspector takes an inspector out of the pool.
func (r *Registry) RetireInspector(ctx context.Context, id, by string) error {
	cur, err := r.Inspectors(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cur, func(e InspectorEntry) bool { return e.ID == id && !e.Retired })
	if i < 0 {
		return fmt.Errorf("inspector %q: %w", id, ErrNotRegistered)
	}
	e := cur[i]
	e.Retired, e.By = true, by
	return r.put(ctx, warehouse.RecordKindInspector, id, e)
}

// Inspectors are every inspector ever registered, by id, retired ones flagged.
func (r *Registry) Inspectors(ctx context.Context) ([]InspectorEntry, error) {
	return latest[InspectorEntry](ctx, r.store, warehouse.RecordQuery{Kind: warehouse.RecordKindInspector})
}

// PutAgency adds a testing agency or changes one.
func (r *Registry) PutAgency(ctx context.Context, e AgencyEntry) (AgencyEntry, error) {
	e.Removed = false
	e.Products = slices.Compact(slices.Sorted(slices.Values(e.Products)))
	if err := e.Validate(); err != nil {
		return e, invalid(err)
	}
	return e, r.put(ctx, warehouse.RecordKindAgency, e.ID, e)
}

// RemoveAgency takes an agency out of the registry.
func (r *Registry) RemoveAgency(ctx context.Context, id, by string) error {
	cur, err := r.Agencies(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cur, func(e AgencyEntry) bool { return e.ID == id && !e.Removed })
	if i < 0 {
		return fmt.Errorf("agency %q: %w", id, ErrNotRegistered)
	}
	e := cur[i]
	e.Removed, e.By = true, by
	return r.put(ctx, warehouse.RecordKindAgency, id, e)
}

// Agencies are every agency ever registered, by id, removed ones flagged.
func (r *Registry) Agencies(ctx context.Context) ([]AgencyEntry, error) {
	return latest[AgencyEntry](ctx, r.store, warehouse.RecordQuery{Kind: warehouse.RecordKindAgency})
}

func (r *Registry) put(ctx context.Context, kind warehouse.RecordKind, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = r.store.AddPlanningRecord(ctx, warehouse.PlanningRecord{Kind: kind, Key: key, Body: b})
	return err
}

// latest is the last record of each key, decoded, by key.
func latest[T any](ctx context.Context, store PlanningRecords, q warehouse.RecordQuery) ([]T, error) {
	recs, err := store.PlanningRecords(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []T
	for i, rec := range recs {
		if i+1 < len(recs) && recs[i+1].Key == rec.Key {
			continue // a later record of the same key replaces it
		}
		var v T
		if err := json.Unmarshal(rec.Body, &v); err != nil {
			return nil, fmt.Errorf("%s record %s: %w", rec.Kind, rec.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// activeInspectors are the pool a draw takes: the inspectors not retired.
func activeInspectors(all []InspectorEntry) []planning.Inspector {
	var out []planning.Inspector
	for _, e := range all {
		if !e.Retired {
			out = append(out, planning.Inspector{ID: e.ID, County: e.County})
		}
	}
	return out
}

// inRegion reports whether a firm's region lies in the filter: the whole
// city or province for codes ending in 00 or 0000, else the same current
// county (a merged county's firms belong to the county that took it over).
func inRegion(region, filter string) bool {
	switch {
	case len(filter) == 6 && filter[2:] == "0000":
		return strings.HasPrefix(region, filter[:2])
	case len(filter) == 6 && filter[4:] == "00":
		return strings.HasPrefix(region, filter[:4])
	}
	return model.CurrentCounty(region) == model.CurrentCounty(filter)
}
