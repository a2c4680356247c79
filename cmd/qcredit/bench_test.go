package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/qcredit/qcredit/internal/testenv"
)

func TestBenchIngestReportsBothRates(t *testing.T) {
	// given the in-process broker, when bench ingest runs over a few thousand
	// events, then it prints the fetch and ingest rates and their ratio,
	// computed from the rates it printed.
	t.Setenv("TMPDIR", t.TempDir())
	out, err := run(t, "", "bench", "ingest", "--events", "3000", "--partitions", "2", "--batch-size", "500")
	if err != nil {
		t.Fatalf("bench ingest: %v\n%s", err, out)
	}
	perSecond := func(label string) float64 {
		m := regexp.MustCompile(regexp.QuoteMeta(label) + `\s+[0-9.]+ s\s+([0-9]+) events/s`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %q line in\n%s", label, out)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	fetch, ingest := perSecond("(a) bare fetch:"), perSecond("(b) ingest+DuckDB:")
	m := regexp.MustCompile(`ratio \(b\)/\(a\):\s+([0-9.]+)`).FindStringSubmatch(out)
	if m == nil || fetch <= 0 || ingest <= 0 {
		t.Fatalf("rates missing in\n%s", out)
	}
	ratio, _ := strconv.ParseFloat(m[1], 64)
	// The ratio is printed to two decimals from unrounded rates.
	if want := ingest / fetch; math.Abs(ratio-want) > 0.006+want*0.01 {
		t.Fatalf("ratio %v, but the printed rates give %v\n%s", ratio, want, out)
	}
}

func TestBenchImportReportsTheRateAtTheStoresBatchSize(t *testing.T) {
	// given no --batch, when bench import runs over a few thousand events,
	// then it reports every event stored, at DuckDB's own batch size, and a
	// rate that is events over seconds.
	out, err := run(t, "", "bench", "import", "--events", "3000", "--dir", t.TempDir())
	if err != nil {
		t.Fatalf("bench import: %v\n%s", err, out)
	}
	var report struct {
		Results []importBench `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil || len(report.Results) != 1 {
		t.Fatalf("report %q: %v", out, err)
	}
	r := report.Results[0]
	if r.Backend != "duckdb" || r.Events != 3000 || r.Batch != 2*122_880 {
		t.Errorf("result %+v, want 3000 events into duckdb at batches of 245,760", r)
	}
	if want := float64(r.Events) / r.Seconds; math.Abs(r.EventsPerSec-want) > want*1e-9 {
		t.Errorf("rate %v, but events over seconds is %v", r.EventsPerSec, want)
	}
}

func TestBenchScoreReusesTheCityItLoaded(t *testing.T) {
	// given an empty --dir, when bench score runs twice on a small city,
	// then the first run loads it and the second reuses it: the same
	// events, a score of every enterprise, and the same digest.
	dir := t.TempDir()
	args := []string{"bench", "score", "--enterprises", "300", "--months", "12", "--dir", dir}
	var runs [2]scoreBench
	for i := range runs {
		out, err := run(t, "", args...)
		if err != nil {
			t.Fatalf("bench score: %v\n%s", err, out)
		}
		if err := json.Unmarshal([]byte(lastJSON(out)), &runs[i]); err != nil {
			t.Fatalf("report %q: %v", out, err)
		}
	}
	first, second := runs[0], runs[1]
	if first.Reused || !second.Reused || first.LoadSeconds <= 0 || second.LoadSeconds != 0 {
		t.Errorf("reused %v then %v, load seconds %v then %v: want a load, then a reuse", first.Reused, second.Reused,
			first.LoadSeconds, second.LoadSeconds)
	}
	if first.Events < 300 || second.Events != first.Events {
		t.Errorf("events %d then %d, want the same, at least one per enterprise", first.Events, second.Events)
	}
	if first.Counts["enterprises"] != 300 || first.Run != "score-1" || second.Run != "score-2" {
		t.Errorf("runs %s (%d enterprises) and %s, want score-1 of 300 enterprises, then score-2", first.Run,
			first.Counts["enterprises"], second.Run)
	}
	if first.Digest == "" || second.Digest != first.Digest {
		t.Errorf("digests %q and %q, want equal: the same city scored twice", first.Digest, second.Digest)
	}
}

func TestBenchClustersRunsOnTheScoredCity(t *testing.T) {
	// given a small bench city, when bench clusters runs, then it scores the
	// city, runs the clusters job over every enterprise and the window's
	// spot checks, and reports both times.
	out, err := run(t, "", "bench", "clusters", "--enterprises", "400", "--months", "14", "--dir", t.TempDir())
	if err != nil {
		t.Fatalf("bench clusters: %v\n%s", err, out)
	}
	var r clustersBench
	if err := json.Unmarshal([]byte(lastJSON(out)), &r); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if r.Run != "clusters-1" || r.Counts["enterprises"] < 360 || r.Counts["checks"] == 0 || r.Counts["clusters"] == 0 {
		t.Errorf("run %s counts %v: want clusters-1 over the city's enterprises (most of the 400 registered in 14 months), some checks and clusters", r.Run, r.Counts)
	}
	if r.ScoreSeconds <= 0 || r.ClustersSeconds <= 0 || r.LoadSeconds <= 0 || r.Digest == "" {
		t.Errorf("report %+v: want load, score and clusters times and a digest", r)
	}
}

func TestBenchScoreRefusesAnotherWarehouse(t *testing.T) {
	// given a --dir holding a city of another size, when bench score runs,
	// then it refuses to add a second city to it.
	dir := t.TempDir()
	if out, err := run(t, "", "bench", "score", "--enterprises", "50", "--months", "12", "--dir", dir); err != nil {
		t.Fatalf("bench score: %v\n%s", err, out)
	}
	out, err := run(t, "", "bench", "score", "--enterprises", "60", "--months", "12", "--dir", dir)
	if err == nil || !strings.Contains(err.Error(), "use an empty --dir") {
		t.Fatalf("err %v, want a refusal naming --dir\n%s", err, out)
	}
}

func TestBenchLookupMeasuresServeAndTheBareHandler(t *testing.T) {
	// given a small scored city, when bench lookup drives both servers for
	// a second, then every request succeeded, the bodies are as big on
	// both, and the rates and ratio are those of the printed counts.
	bin := testenv.Binary(t)
	requireWrk(t)
	out, err := run(t, "", "bench", "lookup", "--enterprises", "200", "--months", "12", "--dir", t.TempDir(),
		"--binary", bin, "--duration", "1s", "--warmup", "0s", "--rounds", "2", "--connections", "4")
	if err != nil {
		t.Fatalf("bench lookup: %v\n%s", err, out)
	}
	var r lookupBench
	if err := json.Unmarshal([]byte(lastJSON(out)), &r); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if r.Enterprises != 200 || r.ServeRSSBytes < 10<<20 || r.ModelBytes <= 0 || r.BodyBytes < 100 || len(r.Rounds) != 2 {
		t.Fatalf("report %+v: want 200 enterprises, serve's memory, a body and 2 rounds", r)
	}
	for i, round := range r.Rounds {
		for _, l := range round {
			checkLoad(t, fmt.Sprintf("round %d %s", i+1, l.Target), l, float64(r.BodyBytes))
		}
		if round[0].Target != "serve" || round[1].Target != "bare" {
			t.Errorf("round %d is %s then %s, want serve then bare", i+1, round[0].Target, round[1].Target)
		}
	}
	if r.Serve != r.Rounds[0][0] && r.Serve != r.Rounds[1][0] || r.Bare != r.Rounds[0][1] && r.Bare != r.Rounds[1][1] {
		t.Errorf("the reported results are none of the rounds")
	}
	if want := r.Serve.PerSecond / r.Bare.PerSecond; math.Abs(r.Ratio-want) > want*1e-9 {
		t.Errorf("ratio %v, but the rates give %v", r.Ratio, want)
	}
}

func TestBenchCreditFileOnBothBackends(t *testing.T) {
	// given a small city loaded into DuckDB and ClickHouse, when bench
	// creditfile fetches credit files from serve on each, then every one
	// succeeded, and both warehouses hold the same events and the same
	// scores (digest).
	bin := testenv.Binary(t)
	ch := testenv.ClickHouse(t)
	requireWrk(t)
	out, err := run(t, "", "bench", "creditfile", "--enterprises", "200", "--months", "12", "--dir", t.TempDir(),
		"--binary", bin, "--duration", "1s", "--warmup", "0s", "--clickhouse", ch)
	if err != nil {
		t.Fatalf("bench creditfile: %v\n%s", err, out)
	}
	var r creditFileBench
	if err := json.Unmarshal([]byte(lastJSON(out)), &r); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if len(r.Results) != 2 || r.Results[0].Backend != "duckdb" || r.Results[1].Backend != "clickhouse" {
		t.Fatalf("results %+v, want duckdb then clickhouse", r.Results)
	}
	duck, click := r.Results[0], r.Results[1]
	for _, res := range r.Results {
		checkLoad(t, res.Backend, res.Load, res.BodyBytes*0.5)
		if res.BodyBytes < 500 {
			t.Errorf("%s: credit files of %v bytes on average, want a file with records", res.Backend, res.BodyBytes)
		}
	}
	if duck.Events < 200 || click.Events != duck.Events || duck.ScoreDigest == "" || click.ScoreDigest != duck.ScoreDigest {
		t.Errorf("duckdb %d events, digest %s; clickhouse %d, %s: want the same city and scores", duck.Events,
			duck.ScoreDigest, click.Events, click.ScoreDigest)
	}
	if click.Database == "" || clickHouseHasDatabase(t, ch, click.Database) {
		t.Errorf("the bench database %q was left on the server", click.Database)
	}
}

// checkLoad checks one wrk result for consistency: requests made, none
// failed, the rate is requests over seconds, at least minBody bytes each.
func checkLoad(t *testing.T, what string, l wrkResult, minBody float64) {
	t.Helper()
	if l.Requests < 1 || l.Errors != 0 || l.Seconds <= 0 {
		t.Errorf("%s: %d requests, %d errors in %v s", what, l.Requests, l.Errors, l.Seconds)
		return
	}
	if want := float64(l.Requests) / l.Seconds; math.Abs(l.PerSecond-want) > want*1e-9 {
		t.Errorf("%s: %v requests/s, but requests over seconds is %v", what, l.PerSecond, want)
	}
	if l.P50ms <= 0 || l.P99ms < l.P50ms || l.MaxMs < l.P99ms {
		t.Errorf("%s: p50 %v, p99 %v, max %v ms: want 0 < p50 <= p99 <= max", what, l.P50ms, l.P99ms, l.MaxMs)
	}
	if per := float64(l.Bytes) / float64(l.Requests); per < minBody {
		t.Errorf("%s: %v bytes a response, want at least the body's %v", what, per, minBody)
	}
}

// requireWrk skips (fails in CI) when wrk is not installed; scripts/test.sh installs it.
func requireWrk(t *testing.T) {
	t.Helper()
	if _, err := wrkPath(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// lastJSON is the JSON object a command printed last (progress and logs
// share its output in tests).
func lastJSON(out string) string {
	i := strings.LastIndex(out, "\n{\n")
	if i < 0 {
		return out
	}
	return out[i+1:]
}

// clickHouseHasDatabase reports whether the server at url has database name.
func clickHouseHasDatabase(t *testing.T, url, name string) bool {
	t.Helper()
	opts, err := ch.ParseDSN(url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ch.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM system.databases WHERE name = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}
