package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

var (
	quiet = slog.New(slog.DiscardHandler)
	cst   = time.FixedZone("CST", 8*3600)
	firmA = conformance.FirmA // registered, checked and passed, one minor failure
	firmB = conformance.FirmB // registered, a heavy penalty for counterfeiting
)

// scoredServer is an API over a real DuckDB warehouse holding two firms,
// scored once as of 2025-06-30.
func scoredServer(t *testing.T) *apitest.Server {
	t.Helper()
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	return serve(t, s)
}

var at = func(m time.Month, d int) time.Time { return time.Date(2025, m, d, 9, 0, 0, 0, cst) }

// scoredWarehouse writes two firms' records into s and scores them as of
// 2025-06-30.
func scoredWarehouse(t *testing.T, s *duckdb.Store) *duckdb.Store {
	t.Helper()
	addEvents(t, s,
		conformance.Event(t, "a0", model.EventEnterpriseRegistered, firmA, at(1, 2), map[string]any{"name": "盱眙龙虾食品有限公司", "region": "320830", "industry": "C1361"}),
		conformance.Event(t, "a2", model.EventSpotCheckCompleted, firmA, at(3, 1), map[string]any{"check_id": "C2", "product": "小龙虾", "result": "fail", "severity": "minor"}),
		conformance.Event(t, "a1", model.EventSpotCheckCompleted, firmA, at(2, 1), map[string]any{"check_id": "C1", "product": "小龙虾", "result": "pass"}),
		conformance.Event(t, "b0", model.EventEnterpriseRegistered, firmB, at(1, 2), map[string]any{"name": "淮安特钢有限公司", "region": "320812", "industry": "C3130"}),
		penalty(t, "b1", firmB, "P1"),
	)
	scoreAsOf(t, s, "2025-06-30")
	return s
}

func penalty(t *testing.T, id string, u model.USCC, caseNo string) warehouse.Item {
	return conformance.Event(t, id, model.EventPenaltyDecided, u, at(4, 1), map[string]any{"case_no": caseNo, "violation": "counterfeit", "severity": "heavy"})
}

func addEvents(t *testing.T, s *duckdb.Store, items ...warehouse.Item) {
	t.Helper()
	if _, err := s.Write(t.Context(), warehouse.Batch{Items: items}); err != nil {
		t.Fatal(err)
	}
}

// scoreJob is the score job over s with the scorecard and the default listing rules.
func scoreJob(t testing.TB, s interface {
	pipelines.ScoreFeatures
	pipelines.ListingRecords
}, sc *scoring.Scorecard) *pipelines.ScoreJob {
	t.Helper()
	rules, err := lists.Default()
	if err != nil {
		t.Fatal(err)
	}
	j, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: s, Listing: s, Scorecard: sc, Rules: rules, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func scoreAsOf(t *testing.T, s *duckdb.Store, asOf string) {
	t.Helper()
	sc, err := scoring.Default()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := lists.Default()
	if err != nil {
		t.Fatal(err)
	}
	score, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: s, Listing: s, Scorecard: sc, Rules: rules, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{score}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: asOf}); err != nil {
		t.Fatal(err)
	}
}

// serve is an API over s with its read model loaded and a key of every
// scope.
func serve(t *testing.T, s *duckdb.Store) *apitest.Server {
	t.Helper()
	return apitest.Start(t, s, loadedModel(t, s, serving.Options{}), api.Options{})
}

func loadedModel(t *testing.T, s serving.Source, opts serving.Options) *serving.Store {
	t.Helper()
	rm, err := serving.NewStore(s, quiet, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := rm.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return rm
}

// getJSON gets path with the analyst key (none for public routes), checks
// the status and the contract, and decodes the body into into.
func getJSON(t *testing.T, srv *apitest.Server, path string, wantStatus int, into any) {
	t.Helper()
	scope := api.ScopeAnalyst
	if strings.HasPrefix(path, "/api/v1/public/") {
		scope = ""
	}
	srv.Get(t, path, scope, wantStatus, into)
}

type reason struct {
	Rule   string          `json:"rule"`
	Points json.Number     `json:"points"`
	Events []string        `json:"events"`
	Basis  string          `json:"basis"`
	Extra  json.RawMessage `json:"-"`
}

func TestCreditFile(t *testing.T) {
	// Given two scored firms, when the analyst opens a credit file, then it
	// has the enterprise, the latest score with reasons citing its events,
	// the score history and the records in occurred_at order.
	srv := scoredServer(t)
	var file struct {
		Enterprise model.Enterprise `json:"enterprise"`
		Score      struct {
			AsOf    string      `json:"as_of"`
			Score   json.Number `json:"score"`
			Grade   string      `json:"grade"`
			Reasons []reason    `json:"reasons"`
		} `json:"score"`
		History []struct {
			AsOf  string `json:"as_of"`
			Grade string `json:"grade"`
		} `json:"history"`
		Records []struct {
			ID         string `json:"id"`
			OccurredAt string `json:"occurred_at"`
		} `json:"records"`
	}
	getJSON(t, srv, "/api/v1/enterprises/"+string(firmA), http.StatusOK, &file)
	if file.Enterprise.Name != "盱眙龙虾食品有限公司" || file.Score.AsOf != "2025-06-30" || file.Score.Score != "96.0" || file.Score.Grade != "A" {
		t.Errorf("file: %+v", file)
	}
	if len(file.Score.Reasons) != 2 || file.Score.Reasons[0].Rule != "spot_check.fail.minor" || file.Score.Reasons[0].Events[0] != "a2" ||
		file.Score.Reasons[1].Rule != "grade.a_evidence" || file.Score.Reasons[1].Events[0] != "a1" {
		t.Errorf("reasons: %+v", file.Score.Reasons)
	}
	if len(file.History) != 1 || file.History[0].Grade != "A" {
		t.Errorf("history: %+v", file.History)
	}
	if len(file.Records) != 3 || file.Records[0].ID != "a0" || file.Records[1].ID != "a1" || file.Records[2].ID != "a2" {
		t.Errorf("records: %+v", file.Records)
	}
	// The bureau and its inputs are in +08:00: so are the times it reads.
	if len(file.Records) > 0 && file.Records[0].OccurredAt != "2025-01-02T09:00:00+08:00" {
		t.Errorf("occurred_at %q, want 2025-01-02T09:00:00+08:00", file.Records[0].OccurredAt)
	}
}

func TestCreditFileErrors(t *testing.T) {
	srv := scoredServer(t)
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"invalid USCC", "/api/v1/enterprises/91320830MA1AAA01XX", http.StatusBadRequest, "invalid_uscc"},
		{"unknown enterprise", "/api/v1/enterprises/" + string(model.CompleteUSCC("91320826MA1CCC03")), http.StatusNotFound, "enterprise_not_found"},
		{"bad grade", "/api/v1/scores?grade=E", http.StatusBadRequest, "invalid_query"},
		{"bad limit", "/api/v1/scores?limit=x", http.StatusBadRequest, "invalid_query"},
		{"limit too large", "/api/v1/scores?limit=5000", http.StatusBadRequest, "invalid_query"},
		{"unknown region", "/api/v1/scores?region=320899", http.StatusBadRequest, "invalid_query"},
		{"region outside the city", "/api/v1/scores?region=110101", http.StatusBadRequest, "invalid_query"},
		{"bad industry", "/api/v1/scores?industry=Z99", http.StatusBadRequest, "invalid_query"},
		{"unknown cluster", "/api/v1/scores?cluster=320830-C99", http.StatusBadRequest, "invalid_query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			getJSON(t, srv, tt.path, tt.status, &body)
			if body.Error.Code != tt.code {
				t.Errorf("code %q, want %q", body.Error.Code, tt.code)
			}
			if n := strings.Count(body.Error.Message, "\n") + 1; n != 1 {
				t.Errorf("%d messages for one problem: %q", n, body.Error.Message)
			}
		})
	}
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	srv := scoredServer(t)
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/api/v1/scores", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" || body.Error.Code != "method_not_allowed" {
		t.Errorf("DELETE /api/v1/scores: %s, Allow %q, %+v", resp.Status, resp.Header.Get("Allow"), body)
	}
}

func TestListScores(t *testing.T) {
	srv := scoredServer(t)
	tests := []struct {
		name, query string
		total       int64
		want        []string // grades of the items, in USCC order
	}{
		{"all", "", 2, nil},
		{"the city", "?region=320800", 2, nil},
		{"grade D", "?grade=D", 1, []string{"D"}},
		{"region", "?region=320830", 1, []string{"A"}},
		{"industry prefix", "?industry=C31", 1, []string{"D"}},
		{"cluster", "?cluster=320830-C13", 1, []string{"A"}},
		{"page", "?limit=1&offset=1", 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var page struct {
				AsOf  string `json:"as_of"`
				Total int64  `json:"total"`
				Items []struct {
					USCC  string      `json:"uscc"`
					Name  string      `json:"name"`
					Score json.Number `json:"score"`
					Grade string      `json:"grade"`
				} `json:"items"`
			}
			getJSON(t, srv, "/api/v1/scores"+tt.query, http.StatusOK, &page)
			if page.Total != tt.total || page.AsOf != "2025-06-30" {
				t.Errorf("page: %+v", page)
			}
			if tt.want != nil {
				if len(page.Items) != len(tt.want) {
					t.Fatalf("items: %+v", page.Items)
				}
				for i, g := range tt.want {
					if page.Items[i].Grade != g || page.Items[i].Name == "" || page.Items[i].Score == "" {
						t.Errorf("item %d: %+v, want grade %s", i, page.Items[i], g)
					}
				}
			}
		})
	}
}

func TestPublicLookupShowsGrade(t *testing.T) {
	srv := scoredServer(t)
	var p api.PublicEnterprise
	getJSON(t, srv, "/api/v1/public/enterprises/"+string(firmB), http.StatusOK, &p)
	if p.Grade != "D" || p.Name != "淮安特钢有限公司" {
		t.Errorf("public view: %+v", p)
	}
}
