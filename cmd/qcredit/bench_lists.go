package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// listsBench is what `qcredit bench lists` measured.
type listsBench struct {
	Entries         int                      `json:"entries"`
	CPUs            int                      `json:"cpus"`
	GenerateSeconds float64                  `json:"generate_seconds"`
	ScoreSeconds    float64                  `json:"score_seconds"`
	ListsSeconds    float64                  `json:"lists_run_seconds"`
	LoadSeconds     float64                  `json:"read_model_load_seconds"`
	ModelBytes      int64                    `json:"read_model_lists_bytes"`
	Snapshots       map[string]snapshotBench `json:"snapshots"`
	Check           checkBench               `json:"check"`
}

// snapshotBench is one format's snapshot: over HTTP from the load
// generator's process, and encoded in this process with no HTTP.
type snapshotBench struct {
	Bytes           int64   `json:"bytes"`
	Pulls           int     `json:"pulls"`
	HTTPSeconds     float64 `json:"http_seconds"` // the median of the load generator's pulls
	InProcessSecond float64 `json:"in_process_seconds"`
	Ratio           float64 `json:"http_over_in_process"`
	Target          string  `json:"target,omitempty"`
}

type checkBench struct {
	Codes    int     `json:"codes_per_check"`
	Requests int     `json:"requests"`
	P50MS    float64 `json:"p50_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
	Target   string  `json:"target"`
}

var benchFormats = []string{"json", "ndjson", "csv", "xlsx", "arrow"}

func newBenchListsCmd(a *app) *cobra.Command {
	var entries, repeat, checks int
	var profile string
	cmd := &cobra.Command{
		Use:   "lists",
		Short: "Time list snapshots in every format and 1,000-code checks over HTTP, from a load generator in its own process",
		Long: `Generates --entries firms, each with a heavy penalty, in a fresh DuckDB warehouse, runs
score and lists for real (so the dishonest and focus lists hold about that many entries
each), loads the read model and serves the API on a local port. A load generator — this
binary again, as a child process (bench loadgen) — pulls the dishonest list's snapshot
in json, ndjson, csv, xlsx and arrow for --repeat seconds each (the median pull counts)
and posts --checks checks of 1,000 codes each (half listed), one after another. The same snapshots are also encoded in this process with
no HTTP, in the same run. Targets on a 2-core machine: Arrow ≤ 0.5 s, JSON ≤ 1 s, check
p99 ≤ 20 ms.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if entries < 1000 {
				return fmt.Errorf("--entries must be at least 1000, got %d", entries)
			}
			if profile != "" {
				f, err := os.Create(profile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			return a.benchLists(cmd, entries, repeat, checks)
		},
	}
	cmd.Flags().IntVar(&entries, "entries", 100_000, "listed firms to generate")
	cmd.Flags().IntVar(&repeat, "repeat", 3, "seconds of pulls of each format (at least one pull), and in-process encodings")
	cmd.Flags().IntVar(&checks, "checks", 300, "1,000-code checks to post")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of this process (not the load generator's) to the file")
	return cmd
}

func (a *app) benchLists(cmd *cobra.Command, entries, repeat, checks int) error {
	ctx := cmd.Context()
	dir, err := os.MkdirTemp("", "qcredit-bench-lists-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := duckdb.Open(ctx, filepath.Join(dir, "bench.duckdb"), a.log)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	res := listsBench{Entries: entries, CPUs: runtime.NumCPU(), Snapshots: map[string]snapshotBench{}}
	asOf := pipelines.Today(time.Now()).Date.AddDate(0, 0, -1)
	start := time.Now()
	firms, err := generateListedFirms(ctx, s, entries, asOf)
	if err != nil {
		return err
	}
	res.GenerateSeconds = time.Since(start).Seconds()
	if res.ScoreSeconds, res.ListsSeconds, err = a.benchListsRuns(ctx, s, asOf); err != nil {
		return err
	}
	start = time.Now()
	rm, err := serving.NewStore(s, a.log, serving.Options{Parts: []serving.PartLoader{serving.ListsLoader(serving.ListsOptions{Retention: 24 * time.Hour, Log: a.log})}})
	if err != nil {
		return err
	}
	if err := rm.Load(ctx); err != nil {
		return err
	}
	res.LoadSeconds = time.Since(start).Seconds()
	p := rm.Current().Lists()
	if p == nil || p.History(model.ListDishonest) == nil {
		return errors.New("bench lists: nothing was published")
	}
	res.ModelBytes = p.Bytes()
	url, key, stop, err := a.benchListsServer(ctx, s, rm)
	if err != nil {
		return err
	}
	defer stop()
	h := p.History(model.ListDishonest)
	for _, f := range benchFormats {
		b, err := benchSnapshot(ctx, dir, h, f, url, key, repeat)
		if err != nil {
			return err
		}
		res.Snapshots[f] = b
	}
	if res.Check, err = benchCheck(ctx, dir, firms, url, key, checks); err != nil {
		return err
	}
	return printJSON(cmd, res)
}

// generateListedFirms registers n firms each with a heavy counterfeit
// penalty decided 60 days before asOf (listed by then), and n/10 clean
// firms; it returns every USCC.
func generateListedFirms(ctx context.Context, s *duckdb.Store, n int, asOf time.Time) ([]model.USCC, error) {
	var firms []model.USCC
	var batch []warehouse.Item
	add := func(e model.Event, data string) error {
		e.Data, e.Source = json.RawMessage(data), "320830"
		rec, err := (model.USCCPolicy{}).Validate(e)
		if err != nil {
			return err
		}
		batch = append(batch, warehouse.Item{Record: rec, Origin: model.Origin{Kind: "bench", Name: "lists", Position: e.ID}, Raw: e.Data})
		if len(batch) < 50_000 {
			return nil
		}
		_, err = s.Write(ctx, warehouse.Batch{Items: batch})
		batch = batch[:0]
		return err
	}
	decided := asOf.AddDate(0, 0, -60).Add(10 * time.Hour)
	for i := range n + n/10 {
		u := model.CompleteUSCC(fmt.Sprintf("913208%010d", i))
		firms = append(firms, u)
		reg := fmt.Sprintf(`{"name":"淮安市第%d食品有限公司","region":"320830","industry":"C1361"}`, i)
		if err := add(model.Event{ID: fmt.Sprintf("bench-r%d", i), Type: model.EventEnterpriseRegistered, USCC: u, OccurredAt: decided.AddDate(-2, 0, 0)}, reg); err != nil {
			return nil, err
		}
		if i >= n {
			continue
		}
		pen := fmt.Sprintf(`{"case_no":"盱市监罚〔%d〕%d号","violation":"counterfeit","severity":"heavy","fine_yuan":50000}`, decided.Year(), i)
		if err := add(model.Event{ID: fmt.Sprintf("bench-p%d", i), Type: model.EventPenaltyDecided, USCC: u, OccurredAt: decided}, pen); err != nil {
			return nil, err
		}
	}
	if len(batch) > 0 {
		if _, err := s.Write(ctx, warehouse.Batch{Items: batch}); err != nil {
			return nil, err
		}
	}
	return firms, nil
}

func (a *app) benchListsRuns(ctx context.Context, s *duckdb.Store, asOf time.Time) (score, list float64, err error) {
	sc, err := scoring.Default()
	if err != nil {
		return 0, 0, err
	}
	rules, err := lists.Default()
	if err != nil {
		return 0, 0, err
	}
	sj, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: s, Listing: s, Scorecard: sc, Rules: rules, Log: a.log})
	if err != nil {
		return 0, 0, err
	}
	r, err := pipelines.NewRunner(s, a.log, pipelines.RunnerOptions{Jobs: []pipelines.Job{sj, pipelines.NewListsJob(s, rules, a.log)}})
	if err != nil {
		return 0, 0, err
	}
	var took [2]float64
	for i, job := range []string{pipelines.JobScore, pipelines.JobLists} {
		start := time.Now()
		if _, err := r.Run(ctx, pipelines.RunRequest{Job: job, AsOf: asOf.Format(time.DateOnly)}); err != nil {
			return 0, 0, err
		}
		took[i] = time.Since(start).Seconds()
	}
	return took[0], took[1], nil
}

// benchListsServer serves the API on a local port with a partner key.
func (a *app) benchListsServer(ctx context.Context, s *duckdb.Store, rm *serving.Store) (url, key string, stop func(), err error) {
	key, _, err = api.CreateKey(ctx, s, api.KeyRequest{Name: "bench-partner", Scope: api.ScopePartner}, time.Now())
	if err != nil {
		return "", "", nil, err
	}
	srv, err := api.New(ctx, s, rm, a.log, api.Options{})
	if err != nil {
		return "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, err
	}
	hs := newHTTPServer(srv.Handler())
	go hs.Serve(ln)
	return "http://" + ln.Addr().String(), key, func() { hs.Close(); srv.Close() }, nil
}

func benchSnapshot(ctx context.Context, dir string, h *serving.ListHistory, format, url, key string, repeat int) (snapshotBench, error) {
	v := h.Latest()
	best := time.Duration(1<<63 - 1)
	var n int64
	for range repeat {
		entries, err := h.Snapshot(v.Number)
		if err != nil {
			return snapshotBench{}, err
		}
		cw := &countingWriter{}
		start := time.Now()
		if _, err := api.EncodeSnapshot(cw, format, v, entries); err != nil {
			return snapshotBench{}, err
		}
		best, n = min(best, time.Since(start)), cw.n
	}
	targets := filepath.Join(dir, "snapshot-"+format+".txt")
	if err := os.WriteFile(targets, []byte("/api/v1/partner/lists/dishonest?format="+format+"\n"), 0o644); err != nil {
		return snapshotBench{}, err
	}
	res, err := runLoadgen(ctx, dir, loadPlan{Method: http.MethodGet, Base: url, Targets: targets, Clients: 1,
		Headers: map[string]string{"Authorization": "Bearer " + key}, Duration: time.Duration(repeat) * time.Second})
	if err != nil {
		return snapshotBench{}, err
	}
	if res.Errors > 0 {
		return snapshotBench{}, fmt.Errorf("bench lists: %s snapshot: %s", format, res.FirstError)
	}
	b := snapshotBench{Bytes: n, Pulls: res.Requests, HTTPSeconds: res.P50Ms / 1000, InProcessSecond: best.Seconds()}
	b.Ratio = b.HTTPSeconds / b.InProcessSecond
	switch format {
	case "arrow":
		b.Target = "≤ 0.5 s"
	case "json":
		b.Target = "≤ 1 s"
	}
	return b, nil
}

// benchCheck posts checks of 1,000 codes (half listed) from the load
// generator, one after another.
func benchCheck(ctx context.Context, dir string, firms []model.USCC, url, key string, requests int) (checkBench, error) {
	r := rand.New(rand.NewPCG(1, 2))
	listed := len(firms) * 10 / 11
	var lines bytes.Buffer
	for range requests {
		var q api.CheckRequest
		for i := range 1000 {
			lo, hi := 0, listed
			if i%2 == 1 {
				lo, hi = listed, len(firms)
			}
			q.USCCs = append(q.USCCs, string(firms[lo+r.IntN(hi-lo)]))
		}
		if err := json.NewEncoder(&lines).Encode(q); err != nil {
			return checkBench{}, err
		}
	}
	targets := filepath.Join(dir, "checks.ndjson")
	if err := os.WriteFile(targets, lines.Bytes(), 0o644); err != nil {
		return checkBench{}, err
	}
	res, err := runLoadgen(ctx, dir, loadPlan{Method: http.MethodPost, Base: url, Path: "/api/v1/partner/check", Targets: targets,
		Clients: 1, Headers: map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}})
	if err != nil {
		return checkBench{}, err
	}
	if res.Errors > 0 {
		return checkBench{}, fmt.Errorf("bench lists: check: %s", res.FirstError)
	}
	return checkBench{Codes: 1000, Requests: res.Requests, P50MS: res.P50Ms, P99MS: res.P99Ms, MaxMS: res.MaxMs, Target: "p99 ≤ 20 ms"}, nil
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
