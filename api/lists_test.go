package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

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

var listSeed = flag.Uint64("lists.seed", 0, "seed of the random list publication test (0: a new one)")

// listCity is a warehouse of a few firms whose listing records change from
// run to run; score and lists run as of each day on an injected clock, and
// the read model (with its lists part) and the API serve what they publish.
type listCity struct {
	t      *testing.T
	s      *duckdb.Store
	r      *rand.Rand
	now    atomic.Int64 // Unix µs: the runner's, the read model's and the API's clock
	runner *pipelines.Runner
	rm     *serving.Store
	srv    *apitest.Server
	firms  []model.USCC
	cases  map[model.USCC][]string // penalty case numbers, oldest first
	n      int                     // events made
	day    time.Time               // the as_of of the last run
}

func newListCity(t *testing.T, seed uint64, firms int, retention time.Duration, opts api.Options) *listCity {
	t.Helper()
	c := &listCity{t: t, s: duckdbtest.Open(t), r: rand.New(rand.NewPCG(seed, 12)), cases: map[model.USCC][]string{}}
	c.day = time.Date(2024, 1, 5, 0, 0, 0, 0, model.Shanghai)
	c.setNow(c.day.Add(26 * time.Hour))
	var items []warehouse.Item
	for i := range firms {
		u := model.CompleteUSCC(fmt.Sprintf("9132083%09d", 1000+i))
		c.firms = append(c.firms, u)
		items = append(items, conformance.Event(t, fmt.Sprintf("reg-%d", i), model.EventEnterpriseRegistered, u, c.day.AddDate(-1, 0, 0),
			map[string]any{"name": fmt.Sprintf("淮安“%d号”<食品>有限公司", i), "region": "320830", "industry": "C1361"}))
	}
	c.write(items)
	sc, err := scoring.Default()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := lists.Default()
	if err != nil {
		t.Fatal(err)
	}
	score, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: c.s, Listing: c.s, Scorecard: sc, Rules: rules, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c.runner, err = pipelines.NewRunner(c.s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{score, pipelines.NewListsJob(c.s, rules, quiet)},
		Now: c.clock})
	if err != nil {
		t.Fatal(err)
	}
	c.rm = loadedModel(t, c.s, serving.Options{Now: c.clock,
		Parts: []serving.PartLoader{serving.ListsLoader(serving.ListsOptions{Retention: retention, Now: c.clock})}})
	opts.Now = c.clock
	c.srv = apitest.Start(t, c.s, c.rm, opts)
	return c
}

func (c *listCity) clock() time.Time   { return time.UnixMicro(c.now.Load()).In(model.Shanghai) }
func (c *listCity) setNow(t time.Time) { c.now.Store(t.UnixMicro()) }

func (c *listCity) write(items []warehouse.Item) {
	c.t.Helper()
	if _, err := c.s.Write(c.t.Context(), warehouse.Batch{Items: items}); err != nil {
		c.t.Fatal(err)
	}
}

func (c *listCity) event(typ model.EventType, u model.USCC, at time.Time, data map[string]any) warehouse.Item {
	c.n++
	return conformance.Event(c.t, fmt.Sprintf("ev-%d", c.n), typ, u, at, data)
}

// change reports a few random records, dated up to 20 days before the day.
func (c *listCity) change(day time.Time) {
	var items []warehouse.Item
	for range 1 + c.r.IntN(4) {
		u := c.firms[c.r.IntN(len(c.firms))]
		at := day.AddDate(0, 0, -c.r.IntN(20)).Add(10 * time.Hour)
		cases := c.cases[u]
		switch k := c.r.IntN(10); {
		case k < 4:
			no := fmt.Sprintf("盱市监罚〔%d〕%d号", day.Year(), c.n)
			c.cases[u] = append(c.cases[u], no)
			sev := []string{"heavy", "heavy", "general"}[c.r.IntN(3)]
			items = append(items, c.event(model.EventPenaltyDecided, u, at, map[string]any{"case_no": no, "violation": "counterfeit", "severity": sev}))
		case k == 4 && len(cases) > 0:
			items = append(items, c.event(model.EventPenaltyRevoked, u, at, map[string]any{"case_no": cases[c.r.IntN(len(cases))]}))
		case k == 5 && len(cases) > 0:
			items = append(items, c.event(model.EventCreditRepaired, u, day.Add(10*time.Hour), map[string]any{"case_no": cases[0]}))
		case k == 6 && len(cases) > 0:
			id := fmt.Sprintf("SB-%d", c.n)
			key := lists.DishonestKey(u, "serious.heavy_penalty", cases[len(cases)-1])
			items = append(items, c.event(model.EventListingObjectionReceived, u, at, map[string]any{"objection_id": id, "key": key, "statement": "非故意"}),
				c.event(model.EventListingObjectionDecided, u, at.Add(time.Hour), map[string]any{"objection_id": id,
					"outcome": []string{"upheld", "rejected"}[c.r.IntN(2)]}))
		case k == 7:
			items = append(items, c.event(model.EventEquipmentAccident, u, at, map[string]any{"equipment_id": "E1", "accident_id": fmt.Sprintf("SG-%d", c.n), "grade": "larger"}))
		case k == 8:
			// Names a CSV must keep exactly: a lone CR, an LF, a leading apostrophe (before a formula or not).
			name := fmt.Sprintf([]string{"淮安%d号新材料公司", "淮安%d号\r分公司", "淮安%d号\n分公司", "'=淮安%d号", "'淮安%d号", "=HYPERLINK(%d)",
				"''%d"}[c.r.IntN(7)], c.n)
			items = append(items, c.event(model.EventEnterpriseUpdated, u, at, map[string]any{"name": name}))
		default:
			items = append(items, c.event(model.EventSpotCheckCompleted, u, at, map[string]any{"check_id": fmt.Sprintf("C-%d", c.n),
				"product": "小龙虾", "result": "fail", "severity": "critical"}))
		}
	}
	c.write(items)
}

// run scores and lists as of the day in the nightly slot (02:00 the next
// morning) and refreshes the read model; it returns the lists run.
func (c *listCity) run(day time.Time) warehouse.Run {
	c.t.Helper()
	c.day = day
	c.setNow(day.Add(26 * time.Hour))
	var lr warehouse.Run
	for _, job := range []string{pipelines.JobScore, pipelines.JobLists} {
		run, err := c.runner.Run(c.t.Context(), pipelines.RunRequest{Job: job, AsOf: day.Format(time.DateOnly)})
		if err != nil {
			c.t.Fatal(err)
		}
		lr = run
	}
	c.setNow(day.Add(26*time.Hour + 5*time.Minute))
	if _, err := c.rm.Refresh(c.t.Context()); err != nil {
		c.t.Fatal(err)
	}
	return lr
}

// pulled is a snapshot or the changes as a partner parses them.
type pulled struct {
	version  int64
	from     int64
	manifest model.ListManifest
	entries  []model.ListEntry
	changes  []model.ListChange
	body     []byte
}

var listFormats = []string{"json", "ndjson", "csv", "arrow"}

// get fetches path with the partner key and checks the contract.
func (c *listCity) get(path string, header http.Header, wantStatus int) *http.Response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), http.MethodGet, c.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.srv.Keys[api.ScopePartner])
	for k, v := range header {
		req.Header[k] = v
	}
	return c.srv.Send(c.t, req, nil, wantStatus, nil)
}

func (c *listCity) snapshot(list model.List, version int64, format string) pulled {
	c.t.Helper()
	path := fmt.Sprintf("/api/v1/partner/lists/%s?format=%s", list, format)
	if version > 0 {
		path += "&version=" + strconv.FormatInt(version, 10)
	}
	return parsePull(c.t, c.get(path, nil, http.StatusOK), format, false)
}

func (c *listCity) changesSince(list model.List, since int64, format string) pulled {
	c.t.Helper()
	return parsePull(c.t, c.get(fmt.Sprintf("/api/v1/partner/lists/%s/changes?since=%d&format=%s", list, since, format), nil, http.StatusOK),
		format, true)
}

// parsePull reads a response of the format back into entries or changes,
// with the version and manifest its format carries (headers for all).
func parsePull(t *testing.T, resp *http.Response, format string, changes bool) pulled {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	p := pulled{body: body}
	p.version, _ = strconv.ParseInt(resp.Header.Get("Qcredit-List-Version"), 10, 64)
	p.manifest.Count, _ = strconv.Atoi(resp.Header.Get("Qcredit-List-Manifest-Count"))
	p.manifest.SHA256 = resp.Header.Get("Qcredit-List-Manifest-SHA256")
	switch format {
	case "json":
		var doc struct {
			Version  int64              `json:"version"`
			From     int64              `json:"from"`
			To       int64              `json:"to"`
			Manifest model.ListManifest `json:"manifest"`
			Entries  []model.ListEntry  `json:"entries"`
			Changes  []model.ListChange `json:"changes"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("json: %v: %.300s", err, body)
		}
		if v := max(doc.Version, doc.To); v != p.version || doc.Manifest != p.manifest {
			t.Fatalf("json says version %d manifest %+v; headers %d %+v", v, doc.Manifest, p.version, p.manifest)
		}
		p.from, p.entries, p.changes = doc.From, doc.Entries, doc.Changes
	case "ndjson":
		for line := range bytes.Lines(body) {
			var err error
			if changes {
				var ch model.ListChange
				err = json.Unmarshal(line, &ch)
				p.changes = append(p.changes, ch)
			} else {
				var e model.ListEntry
				err = json.Unmarshal(line, &e)
				p.entries = append(p.entries, e)
			}
			if err != nil {
				t.Fatalf("ndjson line %q: %v", line, err)
			}
		}
	case "csv":
		p.entries, p.changes = parseCSV(t, body, changes)
	case "arrow":
		p.entries, p.changes = parseArrow(t, body, changes, &p)
	}
	if p.changes == nil && changes {
		p.changes = []model.ListChange{}
	}
	return p
}

// csvHeaders are the Chinese headers a partner's system maps to fields.
var csvHeaders = map[string]string{"变更类型": "op", "条目标识": "key", "统一社会信用代码": "uscc", "企业名称": "name", "名单": "list",
	"状态": "state", "列入规则": "rule", "列入原因": "reason", "列入依据": "basis", "作出决定机关": "authority",
	"作出决定机关代码": "authority_code", "违法事实认定日期": "triggered_at", "告知期截止日期": "notice_ends", "列入日期": "listed_at",
	"届满移出日期": "expires_at", "可申请信用修复日期": "repair_possible_from", "惩戒措施": "measures", "来源记录": "events",
	"日期为估算": "dates_estimated", "移出原因": "removed_reason", "移出日期": "removed_at", "移出机关": "removed_by", "移出机关代码": "removed_by_code"}

func parseCSV(t *testing.T, body []byte, changes bool) ([]model.ListEntry, []model.ListChange) {
	t.Helper()
	rest, ok := bytes.CutPrefix(body, []byte("\uFEFF"))
	if !ok {
		t.Fatal("csv without a byte-order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(rest)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("csv: %v", err)
	}
	fields := make([]string, len(rows[0]))
	for i, h := range rows[0] {
		if fields[i] = csvHeaders[h]; fields[i] == "" {
			t.Fatalf("csv header %q is not one of the Chinese headers", h)
		}
	}
	var entries []model.ListEntry
	var chs []model.ListChange
	for _, row := range rows[1:] {
		cell := map[string]string{}
		for i, v := range row {
			v = strings.TrimPrefix(v, "'") // the apostrophe that keeps a spreadsheet from running a formula, or from eating one
			cell[fields[i]] = v
		}
		e := entryFrom(t, func(f string) string { return cell[f] }, func(f string) []string {
			var xs []string
			if err := json.Unmarshal([]byte(cell[f]), &xs); err != nil {
				t.Fatalf("csv %s cell %q: %v", f, cell[f], err)
			}
			return xs
		}, cell["dates_estimated"] == "true")
		entries = append(entries, e)
		if changes {
			chs = append(chs, model.ListChange{Op: model.ListOp(cell["op"]), USCC: e.USCC, Key: e.Key, Entry: e})
		}
	}
	return entries, chs
}

func parseArrow(t *testing.T, body []byte, changes bool, p *pulled) ([]model.ListEntry, []model.ListChange) {
	t.Helper()
	r, err := ipc.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("arrow: %v", err)
	}
	defer r.Release()
	md := r.Schema().Metadata()
	get := func(k string) string { v, _ := md.GetValue(k); return v }
	if get("qcredit.version") != strconv.FormatInt(p.version, 10) || get("qcredit.manifest.sha256") != p.manifest.SHA256 ||
		get("qcredit.manifest.count") != strconv.Itoa(p.manifest.Count) {
		t.Fatalf("arrow metadata %v, headers version %d manifest %+v", md, p.version, p.manifest)
	}
	var entries []model.ListEntry
	var chs []model.ListChange
	for r.Next() {
		rec := r.RecordBatch()
		col := map[string]int{}
		for i, f := range rec.Schema().Fields() {
			col[f.Name] = i
		}
		for row := range int(rec.NumRows()) {
			str := func(f string) string {
				a := rec.Column(col[f]).(*array.String)
				if a.IsNull(row) {
					return ""
				}
				return a.Value(row)
			}
			strs := func(f string) []string {
				l := rec.Column(col[f]).(*array.List)
				vals := l.ListValues().(*array.String)
				lo, hi := l.ValueOffsets(row)
				out := []string{}
				for j := lo; j < hi; j++ {
					out = append(out, vals.Value(int(j)))
				}
				return out
			}
			e := entryFrom(t, str, strs, rec.Column(col["dates_estimated"]).(*array.Boolean).Value(row))
			entries = append(entries, e)
			if changes {
				chs = append(chs, model.ListChange{Op: model.ListOp(str("op")), USCC: e.USCC, Key: e.Key, Entry: e})
			}
		}
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return entries, chs
}

// entryFrom builds an entry from a table's cells.
func entryFrom(t *testing.T, s func(string) string, strs func(string) []string, estimated bool) model.ListEntry {
	t.Helper()
	return model.ListEntry{Authority: s("authority"), AuthorityCode: s("authority_code"), Basis: s("basis"), DatesEstimated: estimated,
		Events: strs("events"), ExpiresAt: s("expires_at"), Key: s("key"), List: model.List(s("list")), ListedAt: s("listed_at"),
		Measures: strs("measures"), Name: s("name"), NoticeEnds: s("notice_ends"), Reason: s("reason"), RemovedAt: s("removed_at"),
		RemovedBy: s("removed_by"), RemovedByCode: s("removed_by_code"), RemovedReason: model.Removal(s("removed_reason")),
		RepairPossibleFrom: s("repair_possible_from"), Rule: s("rule"), State: model.ListState(s("state")), TriggeredAt: s("triggered_at"),
		USCC: model.USCC(s("uscc"))}
}

func canonicalOf(entries []model.ListEntry) []byte {
	var b []byte
	for i := range entries {
		b = entries[i].AppendCanonical(b)
	}
	return b
}

func TestSnapshotPlusChangesIsTheNextSnapshotInEveryFormat(t *testing.T) {
	// given random runs over changing events (heavy penalties, revocations, repairs, objections, accidents,
	// renames) each published through the lists job, when a partner pulls every version's snapshot and the
	// changes since every version in JSON, NDJSON, CSV and Arrow and parses them back, then each snapshot
	// hashes to its manifest, snapshot(V) + changes(V→latest) = the latest snapshot with its manifest in each
	// format, NDJSON's body is the canonical snapshot itself, and changes since the latest are empty
	seed := *listSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -lists.seed=%d)", seed, seed)
	c := newListCity(t, seed, 6, 10*365*24*time.Hour, api.Options{})
	day := c.day
	snapshots := map[model.List]map[int64][]model.ListEntry{model.ListDishonest: {}, model.ListFocus: {}}
	for range 14 {
		day = day.AddDate(0, 0, 3+c.r.IntN(30))
		c.change(day)
		c.run(day)
		for _, l := range model.Lists {
			p := c.snapshot(l, 0, "ndjson")
			if sum := sha256.Sum256(p.body); hex.EncodeToString(sum[:]) != p.manifest.SHA256 || len(p.entries) != p.manifest.Count {
				t.Fatalf("%s version %d: the NDJSON body hashes to %x, its manifest says %+v", l, p.version, sum, p.manifest)
			}
			snapshots[l][p.version] = p.entries
		}
	}
	for _, l := range model.Lists {
		latest := int64(len(snapshots[l]))
		t.Logf("%s: %d versions, %d entries in the latest", l, latest, len(snapshots[l][latest]))
		if latest < 3 {
			t.Errorf("%s: only %d versions published: the test exercised little", l, latest)
		}
		for _, f := range listFormats {
			for v := int64(1); v <= latest; v++ {
				snap := c.snapshot(l, v, f)
				if m := model.NewListManifest(snap.entries); m != snap.manifest || snap.version != v ||
					!bytes.Equal(canonicalOf(snap.entries), canonicalOf(snapshots[l][v])) {
					t.Fatalf("%s %s snapshot %d parses to manifest %+v, says %+v", l, f, v, m, snap.manifest)
				}
				ch := c.changesSince(l, v, f)
				got, err := lists.Apply(snap.entries, ch.changes)
				if err != nil {
					t.Fatalf("%s %s: apply changes since %d: %v", l, f, v, err)
				}
				if m := model.NewListManifest(got); m != ch.manifest || ch.version != latest ||
					!bytes.Equal(canonicalOf(got), canonicalOf(snapshots[l][latest])) {
					t.Fatalf("%s %s: snapshot %d + changes since it = manifest %+v, want %+v (version %d)", l, f, v, m, ch.manifest, latest)
				}
				if v == latest && len(ch.changes) != 0 {
					t.Errorf("%s %s: changes since the latest version: %d", l, f, len(ch.changes))
				}
			}
		}
	}
}

func TestAVersionIsTheSameBytesUnderItsETag(t *testing.T) {
	// given a published version, when a partner pulls its snapshot and its changes several times in every format,
	// then every pull of a format is byte-identical under the same strong ETag (Arrow's schema metadata, XLSX's
	// zip entries and document properties included)
	c := newListCity(t, 7, 6, 10*365*24*time.Hour, api.Options{})
	day := c.day
	for range 3 {
		day = day.AddDate(0, 0, 12)
		c.change(day)
		c.run(day)
	}
	for _, l := range model.Lists {
		for _, f := range append(slices.Clone(listFormats), "xlsx") {
			for _, path := range []string{fmt.Sprintf("/api/v1/partner/lists/%s?format=%s", l, f),
				fmt.Sprintf("/api/v1/partner/lists/%s/changes?since=1&format=%s", l, f)} {
				var first []byte
				var etag string
				for i := range 8 {
					resp := c.get(path, nil, http.StatusOK)
					body, err := io.ReadAll(resp.Body)
					if err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						first, etag = body, resp.Header.Get("ETag")
						continue
					}
					if !bytes.Equal(body, first) || resp.Header.Get("ETag") != etag {
						t.Fatalf("%s: pull %d differs from the first (%d and %d bytes, ETag %s and %s)", path, i+1, len(body), len(first),
							resp.Header.Get("ETag"), etag)
					}
				}
			}
		}
	}
}
