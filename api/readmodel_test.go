package api_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// countingWarehouse counts the API's calls to a real warehouse.
type countingWarehouse struct {
	*duckdb.Store
	calls atomic.Int64
}

func (w *countingWarehouse) Enterprise(ctx context.Context, u model.USCC) (model.Enterprise, error) {
	w.calls.Add(1)
	return w.Store.Enterprise(ctx, u)
}

func (w *countingWarehouse) Timeline(ctx context.Context, u model.USCC, limit int) ([]model.Event, error) {
	w.calls.Add(1)
	return w.Store.Timeline(ctx, u, limit)
}

func (w *countingWarehouse) Output(ctx context.Context, job string, version int, key string) (warehouse.OutputRow, error) {
	w.calls.Add(1)
	return w.Store.Output(ctx, job, version, key)
}

func (w *countingWarehouse) OutputHistory(ctx context.Context, job string, u model.USCC, limit int) ([]warehouse.VersionedOutput, error) {
	w.calls.Add(1)
	return w.Store.OutputHistory(ctx, job, u, limit)
}

func TestPublicLookupMakesNoWarehouseQuery(t *testing.T) {
	// Given an API over a scored warehouse with its read model loaded, when
	// the public looks up firms, then the API calls the warehouse not once
	// (the credit file, for contrast, does), and after the warehouse is
	// closed the lookups keep answering from the loaded version.
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	w := &countingWarehouse{Store: s}
	srv := apitest.Start(t, w, loadedModel(t, s, serving.Options{}), api.Options{PublicRate: api.RateLimit{PerSecond: 1e6, Burst: 1e6}})
	for range 50 {
		for _, u := range []model.USCC{firmA, firmB} {
			var p api.PublicEnterprise
			getJSON(t, srv, "/api/v1/public/enterprises/"+string(u), http.StatusOK, &p)
			if p.Grade == "" || p.AsOf != "2025-06-30" {
				t.Fatalf("lookup of %s: %+v", u, p)
			}
		}
	}
	if n := w.calls.Load(); n != 0 {
		t.Errorf("100 public lookups made %d warehouse calls, want 0", n)
	}
	getJSON(t, srv, "/api/v1/enterprises/"+string(firmA), http.StatusOK, nil)
	if w.calls.Load() == 0 {
		t.Error("the credit file made no warehouse call: the counter counts nothing")
	}
	if err := srv.API.Close(); err != nil { // writes the credit file call's audit record
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var p api.PublicEnterprise
	getJSON(t, srv, "/api/v1/public/enterprises/"+string(firmB), http.StatusOK, &p)
	if p.Grade != model.GradeD {
		t.Errorf("lookup with the warehouse closed: %+v", p)
	}
}

func TestReadModelFollowsNewRuns(t *testing.T) {
	// Given a served read model, when a new score run changes a grade (a
	// late heavy penalty), then after a refresh the public lookup shows the
	// new grade without a restart.
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	rm := loadedModel(t, s, serving.Options{Interval: time.Hour})
	srv := apitest.Start(t, s, rm, api.Options{})
	var p api.PublicEnterprise
	getJSON(t, srv, "/api/v1/public/enterprises/"+string(firmA), http.StatusOK, &p)
	if p.Grade != model.GradeA {
		t.Fatalf("before: %+v", p)
	}
	addEvents(t, s, penalty(t, "a9", firmA, "P9"))
	scoreAsOf(t, s, "2025-06-30")
	if changed, err := rm.Refresh(t.Context()); err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	getJSON(t, srv, "/api/v1/public/enterprises/"+string(firmA), http.StatusOK, &p)
	if p.Grade != model.GradeD {
		t.Errorf("after the new run: %+v", p)
	}
}

// countingSource counts the read model's reads of events.
type countingSource struct {
	*duckdb.Store
	events atomic.Int64
}

func (c *countingSource) EventsOfTypes(ctx context.Context, types []model.EventType, after time.Time, fn func(warehouse.IngestedEvent) error) error {
	c.events.Add(1)
	return c.Store.EventsOfTypes(ctx, types, after, fn)
}
