package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// newServer serves a real DuckDB warehouse holding one registered enterprise.
func newServer(t *testing.T) (*apitest.Server, *duckdb.Store) {
	t.Helper()
	s := duckdbtest.Open(t)
	reg := conformance.Event(t, "320830-e1", model.EventEnterpriseRegistered, conformance.FirmA,
		time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC), map[string]any{
			"name": "盱眙县凹土新材料有限公司", "region": "320830", "industry": "C3099", "cluster": "xuyi-attapulgite"})
	if _, err := s.Write(t.Context(), warehouse.Batch{Items: []warehouse.Item{reg}}); err != nil {
		t.Fatal(err)
	}
	return serve(t, s), s
}

func get(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("decode %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

type apiError struct {
	Error struct{ Code, Message string } `json:"error"`
}

func TestPublicEnterpriseLookup(t *testing.T) {
	srv, _ := newServer(t)
	base := srv.URL + "/api/v1/public/enterprises/"

	var e api.PublicEnterprise
	if code := get(t, base+string(conformance.FirmA), &e); code != http.StatusOK {
		t.Fatalf("known enterprise: status %d", code)
	}
	if e.Name != "盱眙县凹土新材料有限公司" || e.Region != "320830" || e.RegionName != "盱眙县" ||
		e.Industry != "C3099" || e.IndustryName != "其他非金属矿物制品制造" || e.Cluster != "xuyi-attapulgite" {
		t.Errorf("got %+v", e)
	}

	var notFound apiError
	if code := get(t, base+string(conformance.FirmB), &notFound); code != http.StatusNotFound || notFound.Error.Code != "enterprise_not_found" {
		t.Errorf("unknown enterprise: status %d, %+v", code, notFound)
	}
	var bad apiError
	code := get(t, base+"91110000600037341N", &bad)
	if code != http.StatusBadRequest || bad.Error.Code != "invalid_uscc" || !strings.Contains(bad.Error.Message, "expected L") {
		t.Errorf("invalid USCC: status %d, %+v", code, bad)
	}
}

func TestOpsEndpoints(t *testing.T) {
	srv, s := newServer(t)
	if code := get(t, srv.URL+"/healthz", nil); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	if code := get(t, srv.URL+"/readyz", nil); code != http.StatusOK {
		t.Errorf("readyz: %d", code)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `qcredit_http_request_duration_seconds_count{route="/healthz",status="200"} 1`) {
		t.Errorf("metrics do not count the healthz request:\n%.2000s", b)
	}
	s.Close()
	if code := get(t, srv.URL+"/readyz", nil); code != http.StatusServiceUnavailable {
		t.Errorf("readyz with the warehouse closed: %d, want 503", code)
	}
}

func decodeError(resp *http.Response, into any) {
	json.NewDecoder(resp.Body).Decode(into)
}
