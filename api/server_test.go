package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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

func TestPublicNameSearch(t *testing.T) {
	// Given an enterprise 清江浦区润昌钢材有限公司 among others, when the
	// public searches parts of its name or its USCC, then it is found (the
	// exact name first), and a query too short or too long is a 400.
	s := duckdbtest.Open(t)
	firm := model.CompleteUSCC("91320812MA1RUN01")
	other := model.CompleteUSCC("91320812MA1RUN02")
	for i, e := range []struct {
		u    model.USCC
		name string
	}{{firm, "清江浦区润昌钢材有限公司"}, {other, "淮安市润昌钢材贸易有限公司"}} {
		reg := conformance.Event(t, "320812-r"+string(rune('0'+i)), model.EventEnterpriseRegistered, e.u,
			time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC), map[string]any{"name": e.name, "region": "320812", "industry": "C3130"})
		if _, err := s.Write(t.Context(), warehouse.Batch{Items: []warehouse.Item{reg}}); err != nil {
			t.Fatal(err)
		}
	}
	srv := serve(t, s)
	var res api.SearchResult
	for _, q := range []string{"润昌", "钢材", "润昌钢材", "清江浦区润昌钢材有限公司"} {
		srv.Get(t, "/api/v1/public/enterprises?q="+url.QueryEscape(q), "", http.StatusOK, &res)
		if len(res.Items) == 0 || res.Items[0].USCC != firm || res.Items[0].Name != "清江浦区润昌钢材有限公司" {
			t.Errorf("%s: %+v", q, res.Items)
		}
	}
	srv.Get(t, "/api/v1/public/enterprises?q="+string(other), "", http.StatusOK, &res)
	if len(res.Items) != 1 || res.Items[0].USCC != other {
		t.Errorf("by USCC: %+v", res.Items)
	}
	for _, q := range []string{"", "润", strings.Repeat("钢", 101)} {
		srv.Get(t, "/api/v1/public/enterprises?q="+url.QueryEscape(q), "", http.StatusBadRequest, nil)
	}
}

func readAll(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
