package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// benchHTTP serves h on a free local port until the returned stop.
func benchHTTP(h http.Handler) (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := newHTTPServer(h)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// bareGin is the baseline: a gin handler answering a fixed body of about a
// search answer's size, with nothing behind it. What the API gets of the
// machine (and of the load generator sharing it) is measured against it.
func bareGin(body []byte) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/*any", func(c *gin.Context) { c.Data(http.StatusOK, "application/json; charset=utf-8", body) })
	return e
}

// --- name search ---------------------------------------------------------

// benchNames is a read model source of n synthetic Huai'an enterprises,
// named as the register names firms: place, a trade name, a trade, a form.
type benchNames struct {
	n    int
	seed uint64
}

var (
	benchPlaces = []string{"淮安市", "清江浦区", "淮安区", "淮阴区", "洪泽区", "涟水县", "盱眙县", "金湖县", "淮安经济技术开发区", ""}
	benchChars  = []rune("润昌宏达鑫盛华泰恒信永丰瑞祥金源通宇辉腾飞龙凤天成德隆嘉和兴旺顺发富康安邦振远明光新科博创佳美欣悦凯旋世纪东方海城江河湖山林森雅诚汇聚中联")
	benchTrades = []string{"钢材", "食品", "电子", "机械", "化工", "建材", "纺织", "贸易", "科技", "包装", "家具", "塑业", "五金", "水产", "酒业", "电线电缆", "特种设备", "农业", "印务", "照明"}
	benchForms  = []string{"有限公司", "有限公司", "有限公司", "股份有限公司", "厂", "经营部", "商行"}
)

func (b benchNames) name(i int) string {
	r := rand.New(rand.NewPCG(b.seed, uint64(i)))
	var sb strings.Builder
	sb.WriteString(benchPlaces[r.IntN(len(benchPlaces))])
	for range 2 + r.IntN(2) {
		sb.WriteRune(benchChars[r.IntN(len(benchChars))])
	}
	sb.WriteString(benchTrades[r.IntN(len(benchTrades))])
	sb.WriteString(benchForms[r.IntN(len(benchForms))])
	return sb.String()
}

// uscc is the i-th code, in USCC order.
func (b benchNames) uscc(i int) model.USCC {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	var s [6]byte
	for j := 5; j >= 0; j-- {
		s[j] = alphabet[i%31]
		i /= 31
	}
	return model.CompleteUSCC("91320812MA" + string(s[:]))
}

func (b benchNames) Runs(context.Context, warehouse.RunFilter) ([]warehouse.Run, error) {
	return nil, nil
}
func (b benchNames) ReadOutputs(context.Context, warehouse.OutputQuery, func(warehouse.OutputRow) error) error {
	return nil
}
func (b benchNames) EnterprisesSince(context.Context, time.Time) ([]model.Enterprise, error) {
	return nil, nil
}
func (b benchNames) Watermark(context.Context) (time.Time, error) { return time.Time{}, nil }
func (b benchNames) EventsOfTypes(context.Context, []model.EventType, time.Time, func(warehouse.IngestedEvent) error) error {
	return nil // no penalties
}
func (b benchNames) Enterprises(_ context.Context, fn func(model.Enterprise) error) error {
	for i := range b.n {
		if err := fn(model.Enterprise{USCC: b.uscc(i), Name: b.name(i), Region: "320812", Industry: "C3130"}); err != nil {
			return err
		}
	}
	return nil
}

// searchQueries writes n queries as a user types them: mostly two to four
// characters out of a name, some whole names, some USCCs.
func searchQueries(path string, b benchNames, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(b.seed, 99))
	for range n {
		i := r.IntN(b.n)
		q := b.name(i)
		switch x := r.IntN(20); {
		case x == 0:
			q = string(b.uscc(i))
		case x <= 2: // the whole name
		default:
			name := []rune(q)
			l := 2 + r.IntN(3)
			at := r.IntN(len(name) - l + 1)
			q = string(name[at : at+l])
		}
		fmt.Fprintf(w, "/api/v1/public/enterprises?limit=50&q=%s\n", url.QueryEscape(q))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type searchBench struct {
	Names           int        `json:"names"`
	IndexMB         float64    `json:"read_model_mb"`
	LoadSeconds     float64    `json:"load_seconds"`
	Clients         int        `json:"clients"`
	API             loadResult `json:"api"`
	BareGin         loadResult `json:"bare_gin"`
	APIOverBare     float64    `json:"api_over_bare"`
	LimiterNsPerOp  float64    `json:"rate_limiter_ns_per_request"`
	InProcessPerSec float64    `json:"search_in_process_per_sec"`
	TargetPerSec    float64    `json:"target_per_sec"`
	TargetP99Ms     float64    `json:"target_p99_ms"`
}

func newBenchSearchCmd(a *app) *cobra.Command {
	var names, clients int
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Time the public name search over N names through the API, beside a bare gin handler",
		Long: `Builds a read model of N synthetic enterprise names (not timed but reported),
serves the API with the public rate limit raised out of the way, and has a
load generator in its own process send name searches (parts of names, whole
names, USCCs) for --duration from --clients connections; then the same
against a bare gin handler answering a fixed body, in the same run. The
rate limiter's own cost per request and the search alone in process are
measured separately. Prints JSON.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.benchSearch(cmd, names, clients, duration)
		},
	}
	cmd.Flags().IntVar(&names, "names", 1_000_000, "enterprise names in the read model")
	cmd.Flags().IntVar(&clients, "clients", 16, "concurrent connections of the load generator")
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Second, "how long each measurement lasts")
	return cmd
}

func (a *app) benchSearch(cmd *cobra.Command, names, clients int, duration time.Duration) error {
	ctx := cmd.Context()
	work, err := os.MkdirTemp("", "qcredit-bench-search-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	src := benchNames{n: names, seed: 7}
	start := time.Now()
	rm, err := serving.NewStore(src, a.log, serving.Options{Interval: time.Hour})
	if err != nil {
		return err
	}
	if err := rm.Load(ctx); err != nil {
		return err
	}
	res := searchBench{Names: names, LoadSeconds: time.Since(start).Seconds(), IndexMB: float64(rm.Current().Bytes()) / (1 << 20),
		Clients: clients, TargetPerSec: 5000, TargetP99Ms: 20}
	queries := filepath.Join(work, "queries.txt")
	if err := searchQueries(queries, src, 20_000); err != nil {
		return err
	}
	res.InProcessPerSec = searchInProcess(rm.Current(), queries)
	res.LimiterNsPerOp = limiterCost()

	wh, err := duckdb.Open(ctx, ":memory:", a.log) // keys and complaints: nothing a search reads
	if err != nil {
		return err
	}
	defer wh.Close()
	if _, err := wh.Migrate(ctx); err != nil {
		return err
	}
	srv, err := api.New(ctx, wh, rm, a.log, api.Options{Registry: prometheus.NewRegistry(),
		PublicRate: api.RateLimit{PerSecond: 1e9, Burst: 1 << 30}})
	if err != nil {
		return err
	}
	defer srv.Close()
	base, stop, err := benchHTTP(srv.Handler())
	if err != nil {
		return err
	}
	plan := loadPlan{Method: http.MethodGet, Base: base, Targets: queries, Clients: clients, Duration: duration}
	a.log.Info("bench search: the API", "names", names, "clients", clients, "duration", duration)
	if res.API, err = runLoadgen(ctx, work, plan); err != nil {
		return err
	}
	stop()
	// The bare handler answers a body the size of a typical search answer.
	body := []byte(`{"query":"润昌","items":[` + strings.Repeat(`{"uscc":"91320812MA1RUN01X3","name":"清江浦区润昌钢材有限公司","region":"320812","region_name":"清江浦区","industry":"C3130","industry_name":"钢压延加工","deregistered":false},`, 9) + `{}],"more":true}`)
	base, stop, err = benchHTTP(bareGin(body))
	if err != nil {
		return err
	}
	plan.Base = base
	a.log.Info("bench search: a bare gin handler")
	if res.BareGin, err = runLoadgen(ctx, work, plan); err != nil {
		return err
	}
	stop()
	res.APIOverBare = res.API.PerSecond / res.BareGin.PerSecond
	return printJSON(cmd, map[string]any{"cpus": runtime.NumCPU(), "search": res})
}

// searchInProcess is searches a second on one goroutine, no HTTP.
func searchInProcess(m *serving.Model, queries string) float64 {
	lines, _ := readLines(queries)
	var qs []string
	for _, l := range lines {
		u, _ := url.Parse(string(l))
		qs = append(qs, u.Query().Get("q"))
	}
	start := time.Now()
	n := 0
	for time.Since(start) < 2*time.Second {
		m.SearchNames(qs[n%len(qs)], 50)
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}

// limiterCost is the rate limiter's time per request, over 10,000 clients.
func limiterCost() float64 {
	l := api.NewRateLimiter(api.RateLimit{PerSecond: 1e9, Burst: 1 << 30}, nil)
	clients := make([]string, 10_000)
	for i := range clients {
		clients[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	const n = 2_000_000
	start := time.Now()
	for i := range n {
		l.Allow(clients[i%len(clients)])
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// --- HTTP ingest -----------------------------------------------------------

type httpIngestBench struct {
	Events         int        `json:"events"`
	BodyEvents     int        `json:"body_events"`
	Clients        int        `json:"clients"`
	Import         any        `json:"import"`
	HTTP           loadResult `json:"http"`
	HTTPEventsPS   float64    `json:"http_events_per_sec"`
	HTTPSeconds    float64    `json:"http_seconds_with_checkpoint"`
	HTTPOverImport float64    `json:"http_over_import"`
	Target         float64    `json:"target_ratio"`
}

func newBenchHTTPIngestCmd(a *app) *cobra.Command {
	var events, body, clients int
	cmd := &cobra.Command{
		Use:   "http-ingest",
		Short: "Time POST /api/v1/events in bodies of 1,000 events from 8 clients against qcredit import of the same events",
		Long: `Simulates N events (not timed), times qcredit import of them into a fresh
DuckDB file, then times a load generator in its own process posting the same
events in bodies of --body events from --clients concurrent clients to the
API over a second fresh DuckDB file, in the same run, both up to the closing
checkpoint. Prints JSON with the ratio (target ≥ 0.5).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.benchHTTPIngest(cmd, events, body, clients)
		},
	}
	cmd.Flags().IntVar(&events, "events", 400_000, "events to simulate and send")
	cmd.Flags().IntVar(&body, "body", 1000, "events per request body")
	cmd.Flags().IntVar(&clients, "clients", 8, "concurrent clients")
	return cmd
}

func (a *app) benchHTTPIngest(cmd *cobra.Command, events, bodySize, clients int) error {
	bulkGC()
	ctx := cmd.Context()
	work, err := os.MkdirTemp("", "qcredit-bench-http-ingest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	file := filepath.Join(work, "events.jsonl")
	a.log.Info("simulating", "events", events)
	if err := writeSimulation(file, simulate.Config{Events: events, Years: 3, Seed: 7,
		End: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
		return err
	}
	bodies := filepath.Join(work, "bodies.txt")
	n, err := writeBodies(file, bodies, bodySize)
	if err != nil {
		return err
	}
	res := httpIngestBench{Events: n, BodyEvents: bodySize, Clients: clients, Target: 0.5}

	duck, err := duckdb.Open(ctx, filepath.Join(work, "import.duckdb"), a.log)
	if err != nil {
		return err
	}
	imp, err := timeImport(ctx, "duckdb", duck, file, 0, duck.Close)
	if err != nil {
		return err
	}
	res.Import = imp

	wh, err := duckdb.Open(ctx, filepath.Join(work, "http.duckdb"), a.log)
	if err != nil {
		return err
	}
	if _, err := wh.Migrate(ctx); err != nil {
		wh.Close()
		return err
	}
	key, _, err := api.CreateKey(ctx, wh, api.KeyRequest{Name: "bench-ingest", Scope: api.ScopeIngest, Source: model.CityHuaian}, time.Now())
	if err != nil {
		wh.Close()
		return err
	}
	rm, err := serving.NewStore(wh, a.log, serving.Options{Interval: time.Hour})
	if err != nil {
		wh.Close()
		return err
	}
	if err := rm.Load(ctx); err != nil {
		wh.Close()
		return err
	}
	srv, err := api.New(ctx, wh, rm, a.log, api.Options{Registry: prometheus.NewRegistry(), Decoder: a.decoder()})
	if err != nil {
		wh.Close()
		return err
	}
	base, stop, err := benchHTTP(srv.Handler())
	if err != nil {
		srv.Close()
		wh.Close()
		return err
	}
	a.log.Info("bench http-ingest: posting", "events", n, "bodies", (n+bodySize-1)/bodySize, "clients", clients)
	start := time.Now()
	res.HTTP, err = runLoadgen(ctx, work, loadPlan{Method: http.MethodPost, Base: base, Path: "/api/v1/events", Targets: bodies,
		Clients: clients, Headers: map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}})
	stop()
	srv.Close()
	if cerr := wh.Close(); err == nil { // the checkpoint, as the import's
		err = cerr
	}
	if err != nil {
		return err
	}
	res.HTTPSeconds = time.Since(start).Seconds()
	res.HTTPEventsPS = float64(n) / res.HTTPSeconds
	res.HTTPOverImport = res.HTTPEventsPS / imp.EventsPerSec
	if res.HTTP.Errors > 0 {
		a.log.Warn("bench http-ingest: requests failed", "errors", res.HTTP.Errors, "example", res.HTTP.FirstError)
	}
	return printJSON(cmd, map[string]any{"cpus": runtime.NumCPU(), "http_ingest": res})
}

// writeBodies groups the lines of file into JSON arrays of size events, one
// body per line of out, and returns how many events they hold.
func writeBodies(file, out string, size int) (int, error) {
	in, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	f, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n, inBody := 0, 0
	for sc.Scan() {
		if inBody == 0 {
			w.WriteByte('[')
		} else {
			w.WriteByte(',')
		}
		w.Write(sc.Bytes())
		n++
		if inBody++; inBody == size {
			w.WriteString("]\n")
			inBody = 0
		}
	}
	if inBody > 0 {
		w.WriteString("]\n")
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return 0, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return n, f.Close()
}
