package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// publicFields are all an enterprise shows the public.
var publicFields = []string{"uscc", "name", "region", "region_name", "industry", "industry_name", "cluster",
	"deregistered", "grade", "grade_label", "as_of", "listing", "penalties"}

// publicPenaltyFields are all a published penalty shows.
var publicPenaltyFields = []string{"decided_on", "decision_no", "authority", "authority_code", "violation", "severity",
	"fine_yuan", "published_until"}

// penaltyMonths are the default publication periods (serving.DefaultPenaltyPeriods).
var penaltyMonths = map[string]int{"light": 3, "general": 12, "heavy": 36}

// internalData are the data fields of records whose values must never
// reach the public: record numbers, decisions, fines, outcomes, contacts.
var internalData = []string{"check_id", "case_no", "licence_no", "decision_no", "hazard_id", "accident_id",
	"equipment_id", "cert_no", "complaint_id", "fine_yuan", "outcome", "contact", "text", "tracking_hash"}

func TestPublicResponsesHoldNoInternalFields(t *testing.T) {
	// Given a simulated city of 400 enterprises over two years, scored, with
	// complaints carrying contacts, when the public looks every enterprise up
	// by USCC and searches it by part of its name, then every enterprise
	// shown has only the public fields, and no string in any public answer
	// is an event id, a reason's rule, or a value of an internal data field
	// (record numbers, fines, outcomes, contacts) of any record — but the
	// decision number and fine of a penalty within its publication period on
	// the clock's day (not revoked, repaired or retracted), which the public
	// sees with exactly the public penalty fields.
	seed := rand.Int64()
	t.Logf("seed %d", seed)
	s := duckdbtest.Open(t)
	var lines bytes.Buffer
	end := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	if _, err := simulate.Generate(simulate.Config{Enterprises: 400, Years: 2, Seed: seed, End: end}, func(l []byte) error {
		lines.Write(l)
		return lines.WriteByte('\n')
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(lines.Bytes())); err != nil {
		t.Fatal(err)
	}
	scoreAsOf(t, s, "2025-06-30")
	now := time.Date(2025, 7, 1, 10, 0, 0, 0, model.Shanghai)
	clock := func() time.Time { return now }
	srv := apitest.Start(t, s, loadedModel(t, s, serving.Options{Now: clock}), api.Options{Now: clock, PublicRate: api.RateLimit{PerSecond: 1e9, Burst: 1e9}})

	var firms api.ScoreList
	srv.Get(t, "/api/v1/scores?limit=1000", api.ScopeAnalyst, http.StatusOK, &firms)
	if len(firms.Items) < 300 {
		t.Fatalf("only %d scored enterprises", len(firms.Items))
	}
	secret := map[string]bool{}
	published := map[string]bool{} // decision numbers and fines the public may see
	var tracking []string
	for i, f := range firms.Items {
		var file struct {
			Records []model.Event `json:"records"`
			Score   *struct {
				Reasons []struct{ Rule string } `json:"reasons"`
			} `json:"score"`
		}
		srv.Get(t, "/api/v1/enterprises/"+string(f.USCC), api.ScopeAnalyst, http.StatusOK, &file)
		for k := range publishedPenalties(file.Records, now) {
			published[k] = true
		}
		for _, r := range file.Records {
			secret[r.ID] = true
			var data map[string]any
			json.Unmarshal(r.Data, &data)
			for _, k := range internalData {
				if v, ok := data[k]; ok {
					secret[fmt.Sprint(v)] = true
				}
			}
		}
		if file.Score != nil {
			for _, r := range file.Score.Reasons {
				secret[r.Rule] = true
			}
		}
		if i%20 == 0 { // a complaint with a contact, about every 20th firm
			contact := fmt.Sprintf("1390517%04d", i)
			secret[contact] = true
			var receipt api.ComplaintReceipt
			srv.Post(t, "/api/v1/public/complaints", "", map[string]any{"kind": "complaint", "uscc": string(f.USCC),
				"category": "other", "text": "投诉内容" + contact, "contact": contact}, http.StatusCreated, &receipt)
			tracking = append(tracking, receipt.TrackingCode)
			secret["投诉内容"+contact] = true
		}
	}
	for k := range published {
		delete(secret, k)
	}
	if len(published) == 0 {
		t.Fatal("no penalty is in its publication period: the check of penalties checks nothing")
	}
	shown := 0
	check := func(path string) {
		t.Helper()
		resp := srv.Get(t, path, "", http.StatusOK, nil)
		var v any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		walk(t, path, v, secret)
		shown += publicPenaltiesOf(t, path, v, published)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	for _, f := range firms.Items {
		check("/api/v1/public/enterprises/" + string(f.USCC))
		name := []rune(f.Name)
		i := rng.IntN(len(name) - 1)
		check("/api/v1/public/enterprises?limit=50&q=" + url.QueryEscape(string(name[i:i+2])))
		check("/api/v1/public/enterprises?q=" + string(f.USCC))
	}
	for _, code := range tracking {
		check("/api/v1/public/complaints/" + code)
	}
	if shown == 0 {
		t.Error("no lookup showed a penalty")
	}
	t.Logf("%d public answers checked against %d internal values; %d penalties shown", 3*len(firms.Items)+len(tracking), len(secret), shown)
}

// publishedPenalties are the decision numbers and fines of the penalties of
// records published on now's day: decided, within the default period of
// their severity, not revoked, repaired or retracted.
func publishedPenalties(records []model.Event, now time.Time) map[string]bool {
	type pen struct {
		CaseNo   string   `json:"case_no"`
		Severity string   `json:"severity"`
		FineYuan *float64 `json:"fine_yuan"`
		EventID  string   `json:"event_id"`
	}
	retracted, ended := map[string]bool{}, map[string]bool{}
	for _, r := range records {
		var d pen
		json.Unmarshal(r.Data, &d)
		if r.Type == model.EventRetracted {
			retracted[d.EventID] = true
		}
	}
	for _, r := range records {
		var d pen
		json.Unmarshal(r.Data, &d)
		if (r.Type == model.EventPenaltyRevoked || r.Type == model.EventCreditRepaired) && !retracted[r.ID] {
			ended[d.CaseNo] = true
		}
	}
	today := now.In(model.Shanghai).Format(time.DateOnly)
	out := map[string]bool{}
	for _, r := range records {
		var d pen
		json.Unmarshal(r.Data, &d)
		day := r.OccurredAt.In(model.Shanghai)
		until := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, penaltyMonths[d.Severity], 0)
		if r.Type != model.EventPenaltyDecided || retracted[r.ID] || ended[d.CaseNo] || until.Format(time.DateOnly) <= today {
			continue
		}
		out[d.CaseNo] = true
		if d.FineYuan != nil {
			out[fmt.Sprint(*d.FineYuan)] = true
		}
	}
	return out
}

// publicPenaltiesOf checks the penalties of a lookup: exactly the public
// fields, and each a penalty published today; it counts them.
func publicPenaltiesOf(t *testing.T, path string, v any, published map[string]bool) int {
	t.Helper()
	firm, _ := v.(map[string]any)
	list, _ := firm["penalties"].([]any)
	for _, p := range list {
		p := p.(map[string]any)
		for k := range p {
			if !slices.Contains(publicPenaltyFields, k) {
				t.Errorf("%s: penalty field %q is not public", path, k)
			}
		}
		if no, _ := p["decision_no"].(string); !published[no] {
			t.Errorf("%s: shows penalty %v, not in its publication period", path, p)
		}
	}
	return len(list)
}

// walk fails the test for an enterprise object with a field beyond the
// public ones, and for any string that is an internal value.
func walk(t *testing.T, path string, v any, secret map[string]bool) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if _, isFirm := x["uscc"]; isFirm && x["name"] != nil && x["deregistered"] != nil {
			for k := range x {
				if !slices.Contains(publicFields, k) {
					t.Errorf("%s: field %q is not public", path, k)
				}
			}
		}
		for _, e := range x {
			walk(t, path, e, secret)
		}
	case []any:
		for _, e := range x {
			walk(t, path, e, secret)
		}
	case string:
		if secret[x] {
			t.Errorf("%s: shows the internal value %q", path, x)
		}
	case float64:
		if secret[fmt.Sprint(x)] && x > 1000 { // a fine in yuan; small numbers are counts
			t.Errorf("%s: shows the internal number %v", path, x)
		}
	}
}
