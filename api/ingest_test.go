package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// checkEvent is a valid spot check reported by source, as JSON.
func checkEvent(id, source string, uscc model.USCC, result string) string {
	sev := ""
	if result == "fail" {
		sev = `,"severity":"major"`
	}
	return fmt.Sprintf(`{"id":%q,"type":"spot_check.completed","uscc":%q,"source":%q,"occurred_at":"2025-03-01T09:30:00+08:00",`+
		`"data":{"check_id":"C-%s","product":"电线电缆","result":%q%s}}`, id, uscc, source, id, result, sev)
}

func ingestServer(t *testing.T) (*apitest.Server, *duckdb.Store) {
	t.Helper()
	s := duckdbtest.Open(t)
	return apitest.Start(t, s, loadedModel(t, s, serving.Options{}), api.Options{}), s
}

func statuses(res api.IngestResult) string {
	var out []string
	for _, r := range res.Results {
		st := fmt.Sprintf("%d:%s", r.Index, r.Status)
		if r.Reason != "" {
			st += " " + string(r.Reason)
		}
		out = append(out, st)
	}
	return strings.Join(out, " ")
}

func TestHTTPIngestPerEventResults(t *testing.T) {
	// Given a stored event, when a body holds a new event, a resend of the
	// stored one, a different event reusing its id, an invalid USCC, broken
	// JSON and a repeat of the new one, then each gets its outcome; sending
	// the same body again stores nothing more.
	srv, s := ingestServer(t)
	var res api.IngestResult
	srv.Post(t, "/api/v1/events", api.ScopeIngest, "["+checkEvent("320830-1", "320830", firmA, "pass")+"]", http.StatusOK, &res)
	if res.Stored != 1 {
		t.Fatalf("first body: %+v", res)
	}
	body := "[" + strings.Join([]string{
		checkEvent("320830-2", "320830", firmA, "pass"),
		checkEvent("320830-1", "320830", firmA, "pass"),
		checkEvent("320830-1", "320830", firmA, "fail"),
		checkEvent("320830-3", "320830", "91320830MA1AAA01XX", "pass"),
		`{"id": "320830-4", "type": }`,
		checkEvent("320830-2", "320830", firmA, "pass"),
	}, ",\n ") + "]"
	want := "1:stored 2:duplicate 3:dead_lettered conflict 4:dead_lettered invalid_uscc 5:dead_lettered malformed_json 6:duplicate"
	srv.Post(t, "/api/v1/events", api.ScopeIngest, body, http.StatusOK, &res)
	if got := statuses(res); got != want {
		t.Errorf("first send:\n got %s\nwant %s", got, want)
	}
	if res.Received != 6 || res.Stored != 1 || res.Duplicates != 2 || res.DeadLettered != 3 || res.Results[0].ID != "320830-2" {
		t.Errorf("counts: %+v", res)
	}
	res = api.IngestResult{}
	srv.Post(t, "/api/v1/events", api.ScopeIngest, body, http.StatusOK, &res)
	if got, want := statuses(res), strings.Replace(want, "1:stored", "1:duplicate", 1); got != want {
		t.Errorf("resent:\n got %s\nwant %s", got, want)
	}
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Events.Total != 2 || st.DeadLetters.Total != 3 {
		t.Errorf("warehouse holds %d events and %d dead letters, want 2 and 3", st.Events.Total, st.DeadLetters.Total)
	}
	// NDJSON, blank lines skipped.
	res = api.IngestResult{}
	nd := checkEvent("320830-5", "320830", firmA, "pass") + "\n\n" + checkEvent("320830-6", "320830", firmB, "fail") + "\n"
	srv.Post(t, "/api/v1/events", api.ScopeIngest, nd, http.StatusOK, &res)
	if got := statuses(res); got != "1:stored 2:stored" {
		t.Errorf("ndjson: %s", got)
	}
}

func TestHTTPIngestRegions(t *testing.T) {
	// Given a county bureau's key (320830) and the city's (320800), when each
	// reports events of 320830 and of 320812, then the county key's event of
	// the other county is refused and stored nowhere; the city key reports both.
	srv, s := ingestServer(t)
	county := apitest.CreateKey(t, s, api.KeyRequest{Name: "xuyi", Scope: api.ScopeIngest, Source: "320830"})
	if err := srv.API.ReloadKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	body := "[" + checkEvent("320830-1", "320830", firmA, "pass") + "," + checkEvent("320812-1", "320812", firmB, "pass") + "]"
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/api/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+county)
	var res api.IngestResult
	srv.Send(t, req, []byte(body), http.StatusOK, &res)
	if got := statuses(res); got != "1:stored 2:refused forbidden_source" || !strings.Contains(res.Results[1].Detail, "320812") {
		t.Errorf("county key: %s %+v", got, res.Results)
	}
	res = api.IngestResult{}
	srv.Post(t, "/api/v1/events", api.ScopeIngest, body, http.StatusOK, &res) // the city bureau's key
	if got := statuses(res); got != "1:duplicate 2:stored" {
		t.Errorf("city key: %s", got)
	}
}

func TestHTTPIngestLimits(t *testing.T) {
	srv, _ := ingestServer(t)
	var e apiError
	srv.Post(t, "/api/v1/events", api.ScopeIngest, "[", http.StatusBadRequest, &e)
	srv.Post(t, "/api/v1/events", api.ScopeIngest, "", http.StatusBadRequest, &e)
	srv.Post(t, "/api/v1/events", api.ScopeIngest, "[] x", http.StatusBadRequest, &e)
	many := "[" + strings.Repeat("{},", api.MaxIngestEvents) + "{}]"
	srv.Post(t, "/api/v1/events", api.ScopeIngest, many, http.StatusBadRequest, &e)
	if !strings.Contains(e.Error.Message, "more than 10000 events") {
		t.Errorf("too many events: %+v", e)
	}
	huge := `["` + strings.Repeat("x", api.MaxIngestBody) + `"]`
	srv.Post(t, "/api/v1/events", api.ScopeIngest, huge, http.StatusRequestEntityTooLarge, &e)
	if e.Error.Code != "body_too_large" {
		t.Errorf("too large: %+v", e)
	}
}

func TestHTTPIngestConcurrentRequestsShareWrites(t *testing.T) {
	// Given 8 clients sending overlapping bodies at once (every id in two of
	// them), then every id is stored once: the stored counts of all answers
	// add up to the distinct ids and the rest are duplicates.
	srv, s := ingestServer(t)
	const clients, per = 8, 200
	var wg sync.WaitGroup
	results := make([]api.IngestResult, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var events []string
			for i := range per {
				n := (c*per/2 + i) % (clients * per / 2) // each id in two bodies
				events = append(events, checkEvent(fmt.Sprintf("320830-%d", n), "320830", firmA, "pass"))
			}
			srv.Post(t, "/api/v1/events", api.ScopeIngest, "["+strings.Join(events, ",")+"]", http.StatusOK, &results[c])
		}()
	}
	wg.Wait()
	stored, dups := 0, 0
	for _, r := range results {
		stored, dups = stored+r.Stored, dups+r.Duplicates
	}
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if distinct := clients * per / 2; stored != distinct || dups != distinct || st.Events.Total != int64(distinct) {
		t.Errorf("stored %d, duplicates %d, warehouse %d; want %d each", stored, dups, st.Events.Total, distinct)
	}
}

func TestDeadLettersForTheBureaus(t *testing.T) {
	// Given refused events of 盱眙 (320830, sent over HTTP by its bureau) and
	// of 清江浦 (320812, from a file), when 盱眙's ingest key lists the dead
	// letters, then it sees its own with reason, detail and the HTTP origin,
	// not 清江浦's (asking for them is 403); analysts and the city's key see
	// both; the CSV export has the same rows.
	srv, s := ingestServer(t)
	xuyi := apitest.CreateKey(t, s, api.KeyRequest{Name: "xuyi", Scope: api.ScopeIngest, Source: "320830"})
	srv.API.ReloadKeys(t.Context())
	bad := "[" + checkEvent("320830-9", "320830", "91320830MA1AAA01XX", "pass") + "]"
	as := func(key, method, path, body string, status int, into any) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		return srv.Send(t, req, []byte(body), status, into)
	}
	as(xuyi, "POST", "/api/v1/events", bad, http.StatusOK, nil)
	other := checkEvent("320812-9", "320812", firmB, "fail")
	other = strings.Replace(other, `,"severity":"major"`, "", 1) // a failed check without its severity
	if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "qingjiangpu.jsonl", strings.NewReader(other+"\n")); err != nil {
		t.Fatal(err)
	}
	var mine api.DeadLetterList
	as(xuyi, "GET", "/api/v1/ingest/dead-letters", "", http.StatusOK, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Source != "320830" || mine.Items[0].Reason != "invalid_uscc" ||
		len(mine.Items[0].Origins) != 1 || mine.Items[0].Origins[0].Kind != "http" || mine.Items[0].Origins[0].Name != "xuyi" {
		t.Errorf("盱眙's dead letters: %+v", mine.Items)
	}
	as(xuyi, "GET", "/api/v1/ingest/dead-letters?source=320812", "", http.StatusForbidden, nil)
	for _, scope := range []api.Scope{api.ScopeAnalyst, api.ScopeIngest} {
		var all api.DeadLetterList
		srv.Get(t, "/api/v1/ingest/dead-letters", scope, http.StatusOK, &all)
		if len(all.Items) != 2 {
			t.Errorf("%s sees %d dead letters, want 2", scope, len(all.Items))
		}
	}
	var one api.DeadLetterList
	srv.Get(t, "/api/v1/ingest/dead-letters?reason=missing_field&limit=1", api.ScopeAnalyst, http.StatusOK, &one)
	if len(one.Items) != 1 || one.Items[0].Source != "320812" || one.Next == "" {
		t.Errorf("by reason: %+v", one)
	}
	resp := srv.Get(t, "/api/v1/ingest/dead-letters?format=csv", api.ScopeAnalyst, http.StatusOK, nil)
	if body := readAll(resp); strings.Count(body, "\r\n") != 3 || !strings.Contains(body, "file:") {
		t.Errorf("csv: %q", body)
	}
}
