package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// publicFields are all an enterprise shows the public.
var publicFields = []string{"uscc", "name", "region", "region_name", "industry", "industry_name", "cluster",
	"deregistered", "grade", "grade_label", "as_of", "listing", "penalties"}

// publicListingFields are all an entry of the public dishonest list shows
// (api.PublicListing).
var publicListingFields = []string{"uscc", "name", "reason", "basis", "authority", "listed_at", "expires_at",
	"repair_possible_from", "measures"}

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
	// Given a simulated city of 400 enterprises over two years, scored and
	// listed, with complaints carrying contacts, named inspectors and draws
	// (committed, drawn, a re-check), when the public calls every public
	// route of the route table — looks every enterprise up by USCC and
	// searches it by part of its name, pages through the dishonest list,
	// reads every draw and its files, submits and tracks complaints, asks
	// for its session, and meets their errors — then every enterprise and
	// list entry shown has only its public fields; no string (nor any token
	// of one, nor a CSV cell) is an event id, a reason's rule, a list
	// entry's key or rule, a run id or a value of an internal data field of
	// any record (record numbers, fines, outcomes, contacts) — but the
	// decision number and fine of a penalty within its publication period
	// on the clock's day, which the public sees with exactly the public
	// penalty fields, and a complaint's own id on its receipt and status;
	// no body holds an inspector's name, a complainant's contact or text,
	// an API key, its id or hash; and no public route goes unexercised.
	seed := rand.Int64()
	t.Logf("seed %d", seed)
	c := newPublicCity(t, seed)
	srv := c.srv

	inspectors := map[string]string{} // id → name
	for i, county := range []string{"320812", "320830", "320803", "320804", "320813", "320826", "320831", "320800"} {
		id, name := fmt.Sprintf("I-%d", i+1), fmt.Sprintf("检查员%c%c", []rune("赵钱孙李周吴郑王")[i], []rune("一二三四五六七八")[i])
		inspectors[id] = name
		srv.Do(t, http.MethodPut, "/api/v1/admin/inspectors/"+id, api.ScopeAdmin, mustJSON(t, api.InspectorBody{Name: name, County: county}), http.StatusOK, nil)
	}

	var firms api.ScoreList
	srv.Get(t, "/api/v1/scores?limit=1000", api.ScopeAnalyst, http.StatusOK, &firms)
	if len(firms.Items) < 300 {
		t.Fatalf("only %d scored enterprises", len(firms.Items))
	}
	a := newPublicAudit(t, srv)
	for _, name := range inspectors {
		a.personal = append(a.personal, name)
	}
	type receipt struct {
		path string
		body []byte
		api.ComplaintReceipt
	}
	var receipts []receipt
	for i, f := range firms.Items {
		if i%20 != 0 { // a complaint with a contact, about every 20th firm
			continue
		}
		contact := fmt.Sprintf("1390517%04d", i)
		text := "投诉内容" + contact
		a.personal = append(a.personal, contact, text)
		resp := srv.Post(t, "/api/v1/public/complaints", "", map[string]any{"kind": "complaint", "uscc": string(f.USCC),
			"category": "other", "text": text, "contact": contact}, http.StatusCreated, nil)
		r := receipt{path: "/api/v1/public/complaints", body: []byte(readAll(resp))}
		if err := json.Unmarshal(r.body, &r.ComplaintReceipt); err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, r)
	}
	// The internal values, from the analysts' credit files (which now hold
	// the complaints just submitted).
	now := c.clock()
	today := now.Format(time.DateOnly)
	for _, f := range firms.Items {
		var file struct {
			Records []model.Event `json:"records"`
			Score   *struct {
				Reasons []struct{ Rule string } `json:"reasons"`
			} `json:"score"`
			Listings *struct {
				Entries []model.ListEntry `json:"entries"`
			} `json:"listings"`
		}
		srv.Get(t, "/api/v1/enterprises/"+string(f.USCC), api.ScopeAnalyst, http.StatusOK, &file)
		for k := range publishedPenalties(file.Records, now) {
			a.published[k] = true
		}
		for _, r := range file.Records {
			a.secret[r.ID] = true
			var data map[string]any
			json.Unmarshal(r.Data, &data)
			for _, k := range internalData {
				if v, ok := data[k]; ok {
					a.secret[fmt.Sprint(v)] = true
				}
			}
			if h, ok := data["tracking_hash"].(string); ok {
				a.personal = append(a.personal, h)
			}
		}
		if file.Score != nil {
			for _, r := range file.Score.Reasons {
				a.secret[r.Rule] = true
			}
		}
		if file.Listings != nil {
			for _, e := range file.Listings.Entries {
				a.secret[e.Key], a.secret[e.Rule] = true, true
				for _, id := range e.Events {
					a.secret[id] = true
				}
				if e.State == model.ListStateListed && e.ListedOn(today) {
					for k := range disclosedNumbers(file.Records, e.Events) {
						a.published[k] = true
					}
				}
			}
		}
	}
	for k := range a.published {
		delete(a.secret, k)
	}
	if len(a.published) == 0 {
		t.Fatal("no penalty is in its publication period: the check of penalties checks nothing")
	}
	c.makeDraws(t)
	runs, err := c.s.Runs(t.Context(), warehouse.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		a.secret[r.ID] = true
	}
	keys, err := c.s.KeyRecords(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		a.personal = append(a.personal, k.ID, k.Hash)
	}
	for _, k := range srv.Keys {
		a.personal = append(a.personal, k)
	}

	a.get(t, "/api/v1/session", http.StatusOK)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	for _, f := range firms.Items {
		a.get(t, "/api/v1/public/enterprises/"+string(f.USCC), http.StatusOK)
		name := []rune(f.Name)
		i := rng.IntN(len(name) - 1)
		a.get(t, "/api/v1/public/enterprises?limit=50&q="+url.QueryEscape(string(name[i:i+2])), http.StatusOK)
		a.get(t, "/api/v1/public/enterprises?q="+string(f.USCC), http.StatusOK)
	}
	a.get(t, "/api/v1/public/enterprises/"+string(model.CompleteUSCC("91320800MA0000007")), http.StatusNotFound)

	listed := 0
	for offset := 0; ; offset += 100 {
		var page api.PublicListPage
		json.Unmarshal(a.get(t, fmt.Sprintf("/api/v1/public/lists/dishonest?limit=100&offset=%d", offset), http.StatusOK), &page)
		listed += len(page.Items)
		if len(page.Items) == 0 || offset+100 >= page.Total {
			break
		}
	}
	if listed == 0 {
		t.Error("the public dishonest list is empty: its check checks nothing")
	}

	var index pipelines.DrawIndex
	json.Unmarshal(a.get(t, "/api/v1/public/draws", http.StatusOK), &index)
	kinds := map[string]int{}
	for _, d := range index.Draws {
		kinds[string(d.Kind)+" "+string(d.Status)]++
		a.get(t, "/api/v1/public/draws/"+d.ID, http.StatusOK)
		for _, f := range d.Files {
			body := a.get(t, "/api/v1/public/draws/"+d.ID+"/"+f, http.StatusOK)
			if f == "inspectors.csv" {
				for id := range inspectors {
					if !bytes.Contains(body, []byte(id+",")) {
						t.Errorf("draw %s: %s does not list inspector %s by id:\n%s", d.ID, f, id, body)
					}
				}
			}
		}
		a.get(t, "/api/v1/public/draws/"+d.ID+"/seed.csv", http.StatusNotFound)
	}
	if kinds["inspection committed"] == 0 || kinds["inspection drawn"] == 0 || kinds["recheck drawn"] == 0 {
		t.Errorf("published draws %v: want a committed and a drawn inspection draw and a drawn re-check", kinds)
	}
	a.get(t, "/api/v1/public/draws/draw-none", http.StatusNotFound)

	for _, r := range receipts {
		own := []string{r.ComplaintID}
		a.inspect(t, http.MethodPost, r.path, http.StatusCreated, "application/json", r.body, own)
		a.get(t, "/api/v1/public/complaints/"+r.TrackingCode, http.StatusOK, own...)
	}
	a.get(t, "/api/v1/public/complaints/ABCD-EFGH-JKLM-NPQR", http.StatusNotFound)
	a.post(t, "/api/v1/public/complaints", map[string]any{"kind": "complaint", "uscc": string(firms.Items[0].USCC), "category": "other",
		"text": "投诉", "contact": "13905170000", "extra": "x"}, http.StatusBadRequest)

	a.covered(t)
	if a.shown == 0 {
		t.Error("no lookup showed a penalty")
	}
	t.Logf("%d public answers checked against %d internal values and %d personal strings; %d penalties, %d listings, %d draws shown",
		a.answers, len(a.secret), len(a.personal), a.shown, listed, len(index.Draws))
}

// publicCity is a simulated city scored, listed and re-check framed as of
// its last day, on a clock the day after, served with the lists, the
// draws and the re-check frame in the read model and draws that admins
// make through the API.
type publicCity struct {
	s     *duckdb.Store
	rm    *serving.Store
	srv   *apitest.Server
	clock func() time.Time
}

func newPublicCity(t *testing.T, seed int64) *publicCity {
	t.Helper()
	now := time.Date(2025, 7, 1, 10, 0, 0, 0, model.Shanghai)
	clock := func() time.Time { return now }
	s := duckdbtest.Open(t)
	s.Clock = clock // stamps the draws' records before the lottery's cutoff
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
	sc, err := scoring.Default()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := lists.Default()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Now: clock, Jobs: []pipelines.Job{scoreJob(t, s, sc),
		pipelines.NewListsJob(s, rules, quiet), pipelines.NewRecheckJob(s, pipelines.DefaultRecheckJobConfig(), quiet),
		pipelines.NewLotteryJob(s, quiet)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{pipelines.JobScore, pipelines.JobLists, pipelines.JobRecheck} {
		if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: job, AsOf: end.Format(time.DateOnly)}); err != nil {
			t.Fatal(err)
		}
	}
	rm := loadedModel(t, s, serving.Options{Now: clock, Parts: []serving.PartLoader{
		serving.ListsLoader(serving.ListsOptions{Retention: 10 * 365 * 24 * time.Hour, Now: clock}),
		serving.OutputsLoader(pipelines.JobLottery), serving.OutputsLoader(pipelines.JobRecheck)}})
	srv := apitest.Start(t, s, rm, api.Options{Now: clock, PublicRate: api.RateLimit{PerSecond: 1e9, Burst: 1e9},
		Draws: pipelines.NewLottery(s, r, quiet, pipelines.LotteryOptions{Now: clock})})
	return &publicCity{s: s, rm: rm, srv: srv, clock: clock}
}

// makeDraws makes, through the admin routes, an inspection draw left
// committed, one drawn and a drawn re-check, and loads them into the read
// model.
func (c *publicCity) makeDraws(t *testing.T) {
	t.Helper()
	admin := func(path string, body any, want int) {
		t.Helper()
		c.srv.Do(t, http.MethodPost, "/api/v1/admin/"+path, api.ScopeAdmin, mustJSON(t, body), want, nil)
	}
	admin("draws", pipelines.CreateDrawRequest{ID: "draw-2025q3", Name: "2025年第三季度双随机抽查", PeriodFrom: "2025-07-01",
		PeriodTo: "2025-09-30", BeaconSource: "上证指数2025年7月3日收盘点位"}, http.StatusCreated)
	admin("draws/draw-2025q3/draw", api.DrawStep{Beacon: "3461.15"}, http.StatusOK)
	admin("draws", pipelines.CreateDrawRequest{ID: "draw-2025q4", Name: "2025年第四季度双随机抽查", PeriodFrom: "2025-10-01",
		PeriodTo: "2025-12-31", BeaconSource: "上证指数2025年10月9日收盘点位"}, http.StatusCreated)
	admin("rechecks", pipelines.CreateRecheckRequest{ID: "recheck-2025", Name: "2025年度获证企业复查", BeaconSource: "上证指数2025年7月4日收盘点位"},
		http.StatusCreated)
	admin("draws/recheck-2025/draw", api.DrawStep{Beacon: "3472.32"}, http.StatusOK)
	if _, err := c.rm.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publicAudit checks public answers and counts which public routes of the
// route table they came from.
type publicAudit struct {
	srv       *apitest.Server
	routes    []api.Route     // the routes that accept the public scope
	hits      map[string]int  // successful answers by "METHOD route"
	secret    map[string]bool // internal values: no string, token or CSV cell is one
	published map[string]bool // decision numbers and fines the public may see
	personal  []string        // no body holds one anywhere
	answers   int
	shown     int // penalties shown
}

func newPublicAudit(t *testing.T, srv *apitest.Server) *publicAudit {
	a := &publicAudit{srv: srv, hits: map[string]int{}, secret: map[string]bool{}, published: map[string]bool{}}
	for _, r := range srv.API.Routes() {
		if slices.Contains(r.Scopes, api.ScopePublic) {
			a.routes = append(a.routes, r)
		}
	}
	if len(a.routes) == 0 {
		t.Fatal("the route table has no public route")
	}
	return a
}

// get calls a public route without a key and checks the answer, allowing
// the strings of allow; it returns the body.
func (a *publicAudit) get(t *testing.T, path string, want int, allow ...string) []byte {
	t.Helper()
	return a.send(t, http.MethodGet, path, nil, want, allow)
}

func (a *publicAudit) post(t *testing.T, path string, body any, want int, allow ...string) []byte {
	t.Helper()
	return a.send(t, http.MethodPost, path, mustJSON(t, body), want, allow)
}

func (a *publicAudit) send(t *testing.T, method, path string, body []byte, want int, allow []string) []byte {
	t.Helper()
	resp := a.srv.Do(t, method, path, "", body, want, nil)
	got := []byte(readAll(resp))
	a.inspect(t, method, path, resp.StatusCode, resp.Header.Get("Content-Type"), got, allow)
	return got
}

// inspect checks one public answer and counts its route when it succeeded.
func (a *publicAudit) inspect(t *testing.T, method, path string, status int, contentType string, body []byte, allow []string) {
	t.Helper()
	a.answers++
	route, ok := a.route(method, path)
	if !ok {
		t.Fatalf("%s %s is no public route of the route table", method, path)
	}
	if status < 300 {
		a.hits[route]++
	}
	for _, p := range a.personal {
		if bytes.Contains(body, []byte(p)) {
			t.Errorf("%s %s: the body holds the personal or secret string %q", method, path, p)
		}
	}
	secret := a.secret
	if len(allow) > 0 {
		secret = maps.Clone(a.secret)
		for _, s := range allow {
			delete(secret, s)
		}
	}
	switch {
	case strings.HasPrefix(contentType, "text/csv"):
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, row := range rows {
			for _, cell := range row {
				walk(t, path, cell, secret)
			}
		}
	case strings.HasPrefix(contentType, "application/json"):
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
		walk(t, path, v, secret)
		a.shown += publicPenaltiesOf(t, path, v, a.published)
	default:
		t.Errorf("%s %s: content type %q is neither JSON nor CSV: the check would miss it", method, path, contentType)
	}
}

// route is the public route of the table path matches, as "METHOD route".
func (a *publicAudit) route(method, path string) (string, bool) {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	for _, r := range a.routes {
		want := strings.Split(r.Path, "/")
		if r.Method != method || len(want) != len(segs) {
			continue
		}
		match := true
		for i, w := range want {
			if !strings.HasPrefix(w, ":") && w != segs[i] || strings.HasPrefix(w, ":") && segs[i] == "" {
				match = false
				break
			}
		}
		if match {
			return r.Method + " " + r.Path, true
		}
	}
	return "", false
}

// covered fails the test for a public route no answer succeeded on.
func (a *publicAudit) covered(t *testing.T) {
	t.Helper()
	for _, r := range a.routes {
		if a.hits[r.Method+" "+r.Path] == 0 {
			t.Errorf("public route %s %s was not exercised: add it to the test", r.Method, r.Path)
		}
	}
	t.Logf("public routes exercised: %v", a.hits)
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

// disclosedNumbers are the record numbers (a penalty's or a revocation's
// decision number) of the source events of a list entry, which its public
// reason names while it is listed.
func disclosedNumbers(records []model.Event, events []string) map[string]bool {
	out := map[string]bool{}
	for _, r := range records {
		if !slices.Contains(events, r.ID) {
			continue
		}
		var d struct {
			CaseNo     string `json:"case_no"`
			DecisionNo string `json:"decision_no"`
		}
		json.Unmarshal(r.Data, &d)
		for _, no := range []string{d.CaseNo, d.DecisionNo} {
			if no != "" {
				out[no] = true
			}
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
		if _, isListing := x["listed_at"]; isListing && x["uscc"] != nil {
			for k := range x {
				if !slices.Contains(publicListingFields, k) {
					t.Errorf("%s: list entry field %q is not public", path, k)
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
			return
		}
		for _, tok := range strings.FieldsFunc(x, isSeparator) {
			if secret[tok] {
				t.Errorf("%s: %q shows the internal value %q", path, x, tok)
			}
		}
	case float64:
		if secret[fmt.Sprint(x)] && x > 1000 { // a fine in yuan; small numbers are counts
			t.Errorf("%s: shows the internal number %v", path, x)
		}
	}
}

// isSeparator splits a public text into the tokens checked one by one:
// blanks and the punctuation around record numbers in a sentence.
func isSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("，。；：、（）()[]【】《》“”\"',;:/", r)
}
