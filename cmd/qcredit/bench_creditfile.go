package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
)

// creditFileBenchInput is what one `qcredit bench creditfile` run does.
type creditFileBenchInput struct {
	City        benchCity
	Dir         string
	DuckDB      bool   // measure on DuckDB
	ClickHouse  string // clickhouse://HOST:PORT: also measure on a fresh database there
	Binary      string
	Connections int
	Duration    time.Duration
	Warmup      time.Duration
}

// creditFileResult is one backend's measured credit files.
type creditFileResult struct {
	Backend string `json:"backend"`
	Events  int64  `json:"events"`
	// LoadSeconds is loading the city into this backend, when this run did.
	LoadSeconds float64 `json:"load_seconds,omitempty"`
	// ScoreRun is the current score run the credit files show, and
	// ScoreDigest its digest (equal on both backends: the same scores).
	ScoreRun    string `json:"score_run"`
	ScoreDigest string `json:"score_digest"`
	// Database is the ClickHouse database loaded (and dropped).
	Database string    `json:"database,omitempty"`
	Load     wrkResult `json:"load"`
	// BodyBytes is the average credit file's size.
	BodyBytes float64 `json:"body_bytes"`
}

type creditFileBench struct {
	City    benchCity          `json:"city"`
	CPUs    int                `json:"cpus"`
	Results []creditFileResult `json:"results"`
	Targets string             `json:"targets"`
}

const creditFilePath = "/api/v1/enterprises/"

func newBenchCreditFileCmd(a *app) *cobra.Command {
	in := creditFileBenchInput{}
	cmd := &cobra.Command{
		Use:   "creditfile",
		Short: "Time analysts' credit files of firms in the bench city (about 30M events) on DuckDB, and ClickHouse with --clickhouse",
		Long: `Loads the bench city into DuckDB (reused from --dir) and, with --clickhouse,
into a fresh ClickHouse database (dropped after), scores it unless it is
scored, then starts ` + "`qcredit serve`" + ` on each warehouse in turn and has wrk (in its
own process) GET /api/v1/enterprises/{uscc} — the enterprise, its current
score with reasons, its score history and its timeline — for USCCs drawn
uniformly from the city's, over --connections (one: an analyst at a time).
Prints p50 and p99 per backend as JSON. Target: p99 <= 50 ms on both.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				in.Binary = exe
			}
			if in.Connections < 1 || in.Duration < time.Second {
				return fmt.Errorf("need at least 1 connection and a duration of 1s or more")
			}
			if !in.DuckDB && in.ClickHouse == "" {
				return fmt.Errorf("nothing to measure: --duckdb=false needs --clickhouse")
			}
			res, err := a.benchCreditFile(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printJSON(cmd, res)
		},
	}
	benchCityFlags(cmd, &in.City)
	cmd.Flags().StringVar(&in.Dir, "dir", "", "directory for the bench city's DuckDB warehouse, kept for the next benchmark (default: a temporary one, removed after)")
	cmd.Flags().BoolVar(&in.DuckDB, "duckdb", true, "measure on DuckDB (--duckdb=false with --clickhouse: ClickHouse alone)")
	cmd.Flags().StringVar(&in.ClickHouse, "clickhouse", "", "also measure on ClickHouse at this clickhouse://HOST:PORT (a fresh database is loaded and dropped)")
	cmd.Flags().StringVar(&in.Binary, "binary", "", "qcredit binary to run as serve (default: this one)")
	cmd.Flags().IntVar(&in.Connections, "connections", 1, "concurrent connections")
	cmd.Flags().DurationVar(&in.Duration, "duration", 20*time.Second, "length of each backend's measurement")
	cmd.Flags().DurationVar(&in.Warmup, "warmup", 2*time.Second, "unmeasured credit files before each measurement (0: none)")
	return cmd
}

func (a *app) benchCreditFile(ctx context.Context, in creditFileBenchInput) (creditFileBench, error) {
	res := creditFileBench{City: in.City, CPUs: runtime.NumCPU(), Targets: "p99 <= 50 ms on each backend"}
	if _, err := wrkPath(); err != nil {
		return res, err
	}
	dir, cleanup, err := benchDir(in.Dir, "qcredit-bench-creditfile-")
	if err != nil {
		return res, err
	}
	defer cleanup()
	work, err := os.MkdirTemp(dir, "creditfile-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(work)

	if in.DuckDB {
		duck, err := a.duckCreditFiles(ctx, dir, work, in)
		if err != nil {
			return res, err
		}
		res.Results = append(res.Results, duck)
	}
	if in.ClickHouse != "" {
		ch, err := a.clickHouseCreditFiles(ctx, work, in)
		if err != nil {
			return res, err
		}
		res.Results = append(res.Results, ch)
	}
	return res, nil
}

func (a *app) duckCreditFiles(ctx context.Context, dir, work string, in creditFileBenchInput) (creditFileResult, error) {
	r := creditFileResult{Backend: "duckdb"}
	s, m, reused, err := a.openBenchCity(ctx, dir, in.City)
	if err != nil {
		return r, err
	}
	r.Events = m.Events
	if !reused {
		r.LoadSeconds = m.LoadSeconds + m.OptimizeSeconds
	}
	keys, run, err := a.scoredKeys(ctx, s)
	s.Close()
	if err != nil {
		return r, err
	}
	r.ScoreRun, r.ScoreDigest = run.ID, run.Digest
	path, err := filepath.Abs(filepath.Join(dir, benchWarehouseFile))
	if err != nil {
		return r, err
	}
	r.Load, r.BodyBytes, err = a.measureCreditFiles(ctx, work, in, "duckdb://"+path, keys)
	return r, err
}

// clickHouseCreditFiles loads the city into a fresh database on the
// server, measures, and drops the database whatever happens.
func (a *app) clickHouseCreditFiles(ctx context.Context, work string, in creditFileBenchInput) (creditFileResult, error) {
	r := creditFileResult{Backend: "clickhouse", Database: fmt.Sprintf("qcredit_bench_%d", time.Now().UnixNano())}
	url := in.ClickHouse + "/" + r.Database
	s, err := clickhouse.Open(ctx, url, a.log)
	if err != nil {
		return r, err
	}
	defer func() {
		if err := s.DropDatabase(context.WithoutCancel(ctx)); err != nil {
			a.log.Warn("drop the bench database", "url", url, "err", err)
		}
		s.Close()
	}()
	if _, err := s.Migrate(ctx); err != nil {
		return r, err
	}
	m, err := a.loadBenchCity(ctx, s, in.City)
	if err != nil {
		return r, err
	}
	r.Events, r.LoadSeconds = m.Events, m.LoadSeconds+m.OptimizeSeconds
	keys, run, err := a.scoredKeys(ctx, s)
	if err != nil {
		return r, err
	}
	r.ScoreRun, r.ScoreDigest = run.ID, run.Digest
	r.Load, r.BodyBytes, err = a.measureCreditFiles(ctx, work, in, url, keys)
	return r, err
}

// scoredKeys scores the warehouse unless it is scored and returns its
// enterprises' USCCs and the score run.
func (a *app) scoredKeys(ctx context.Context, s backend) ([]model.USCC, warehouse.Run, error) {
	run, err := a.ensureScored(ctx, s)
	if err != nil {
		return nil, run, err
	}
	var keys []model.USCC
	err = s.Enterprises(ctx, func(e model.Enterprise) error {
		keys = append(keys, e.USCC)
		return nil
	})
	if err == nil && len(keys) == 0 {
		err = fmt.Errorf("the bench city has no enterprises")
	}
	return keys, run, err
}

// measureCreditFiles starts serve on warehouse and has wrk fetch credit
// files of keys drawn uniformly.
func (a *app) measureCreditFiles(ctx context.Context, work string, in creditFileBenchInput, warehouse string, keys []model.USCC) (wrkResult, float64, error) {
	keysFile := filepath.Join(work, "usccs.txt")
	if err := writeKeys(keysFile, keys); err != nil {
		return wrkResult{}, 0, err
	}
	key, err := createBenchKey(ctx, in.Binary, warehouse, "bench-analyst", "analyst")
	if err != nil {
		return wrkResult{}, 0, err
	}
	serve, err := serveChild(ctx, work, in.Binary, warehouse)
	if err != nil {
		return wrkResult{}, 0, err
	}
	defer serve.stop()
	spec := loadSpec{Target: "serve", Addr: serve.addr, Prefix: creditFilePath, KeysFile: keysFile,
		Headers: []string{"Authorization: Bearer " + key}, Conns: in.Connections, Threads: 1, Duration: in.Warmup}
	if in.Warmup > 0 {
		if _, err := runWrk(ctx, work, spec); err != nil {
			return wrkResult{}, 0, err
		}
	}
	spec.Duration, spec.Seed = in.Duration, 1
	r, err := runWrk(ctx, work, spec)
	if err != nil {
		return r, 0, err
	}
	if r.Errors > 0 {
		return r, 0, fmt.Errorf("%d of %d credit files failed; serve's log:\n%s", r.Errors, r.Requests, tailFile(serve.log, 20))
	}
	a.log.Info("credit files", "warehouse", warehouse, "requests", r.Requests, "p50_ms", r.P50ms, "p99_ms", r.P99ms)
	return r, float64(r.Bytes) / float64(max(r.Requests, 1)), nil
}

// createBenchKey creates an API key of scope in warehouse with the binary's
// qcredit keys create (no server runs on it yet) and returns it. A key of
// that name left by an earlier benchmark is revoked first.
func createBenchKey(ctx context.Context, bin, warehouse, name, scope string) (string, error) {
	env := append(os.Environ(), "QCREDIT_WAREHOUSE="+warehouse, "QCREDIT_CONFIG=")
	revoke := exec.CommandContext(ctx, bin, "keys", "revoke", name)
	revoke.Env = env
	_ = revoke.Run() // absent the first time
	create := exec.CommandContext(ctx, bin, "keys", "create", "--name", name, "--scope", scope)
	create.Env = env
	var stderr bytes.Buffer
	create.Stderr = &stderr
	out, err := create.Output()
	if err != nil {
		return "", fmt.Errorf("qcredit keys create: %w\n%s", err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}
