package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// benchCity is the simulated city the benchmarks share: Huai'an's firms as
// the simulator draws them (valid USCCs over the counties, clusters and
// industries), with their histories over Months ending on benchEnd. It is
// generated firm by firm (simulate.StreamFirms) and imported through the
// warehouse's Write like any JSONL file, so the same data loads into DuckDB
// and ClickHouse. The same sizes give the same events.
type benchCity struct {
	Enterprises int   `json:"enterprises"`
	Months      int   `json:"months"`
	Seed        int64 `json:"seed"`
}

// benchEnd is the last simulated day; the benchmarks score as of it.
var benchEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// benchAsOf is the as_of of the benchmarks' score runs.
const benchAsOf = "2026-06-30"

// benchCityFormat changes whenever the data a city's sizes give changes (the
// generator, the simulator's rules), so a kept --dir of an older format is
// not reused.
const benchCityFormat = 1

// benchCityFlags registers the flags that size the city; 1,000,000 firms
// over 66 months hold about 30,000,000 events.
func benchCityFlags(cmd *cobra.Command, c *benchCity) {
	cmd.Flags().IntVar(&c.Enterprises, "enterprises", 1_000_000, "enterprises of the simulated city")
	cmd.Flags().IntVar(&c.Months, "months", 66, "months of history before 2026-06-30 (66: about 30 events per enterprise)")
	c.Seed = 7
}

func (c benchCity) config() simulate.Config {
	return simulate.Config{Enterprises: c.Enterprises, Months: c.Months, Seed: c.Seed, End: benchEnd}
}

// cityManifest says what a bench directory's warehouse holds; it is written
// next to the warehouse once the city is loaded.
type cityManifest struct {
	Format          int       `json:"format"`
	City            benchCity `json:"city"`
	Events          int64     `json:"events"`
	LoadSeconds     float64   `json:"load_seconds"`
	OptimizeSeconds float64   `json:"optimize_seconds"`
	Loaded          time.Time `json:"loaded"`
}

const (
	benchWarehouseFile = "bench.duckdb"
	benchManifestFile  = "bench-city.json"
)

// openBenchCity opens the DuckDB warehouse of dir holding city: the one a
// previous benchmark left there (generating takes minutes), else a new one
// loaded now. A directory holding anything else is refused. The store is
// opened with DuckDB's default settings, as a server opens it; only the
// load runs with bounded memory (benchDuckDBSettings).
func (a *app) openBenchCity(ctx context.Context, dir string, city benchCity) (*duckdb.Store, cityManifest, bool, error) {
	path := filepath.Join(dir, benchWarehouseFile)
	if m, err := readCityManifest(dir); err == nil && m.Format == benchCityFormat && m.City == city {
		s, err := duckdb.Open(ctx, path, a.log)
		if err != nil {
			return nil, m, false, err
		}
		a.log.Info("reusing the bench city", "dir", dir, "enterprises", city.Enterprises, "events", m.Events)
		return s, m, true, nil
	}
	s, err := duckdb.Open(ctx, path+benchDuckDBSettings, a.log)
	if err != nil {
		return nil, cityManifest{}, false, err
	}
	m, err := a.loadEmptyCity(ctx, s, dir, city)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, m, false, err
	}
	// Reopened, what is timed next starts as a server's day would, not in a
	// buffer pool full of the load's work (that made a score run ~40 %
	// slower).
	s, err = duckdb.Open(ctx, path, a.log)
	return s, m, false, err
}

// loadEmptyCity loads city into s unless s holds events already, and
// writes the manifest.
func (a *app) loadEmptyCity(ctx context.Context, s *duckdb.Store, dir string, city benchCity) (cityManifest, error) {
	if _, err := s.Migrate(ctx); err != nil {
		return cityManifest{}, err
	}
	if st, err := s.Stats(ctx); err != nil || st.Events.Total > 0 {
		return cityManifest{}, errors.Join(err, fmt.Errorf("%s holds another warehouse than a bench city of %d enterprises over %d months: use an empty --dir",
			dir, city.Enterprises, city.Months))
	}
	m, err := a.loadBenchCity(ctx, s, city)
	if err != nil {
		return m, err
	}
	return m, writeCityManifest(dir, m)
}

// loadBenchCity generates city into the empty warehouse s through the
// importer (decode, validate, Write), then lets the backend reorganise
// for reads (DuckDB sorts the events by USCC).
func (a *app) loadBenchCity(ctx context.Context, s backend, city benchCity) (cityManifest, error) {
	benchMemory()
	m := cityManifest{Format: benchCityFormat, City: city}
	start := time.Now()
	pr, pw := io.Pipe()
	bar := progressbar.Default(int64(city.Enterprises), "bench city")
	go func() {
		w := bufio.NewWriterSize(pw, 1<<20)
		var last []byte
		_, err := simulate.StreamFirms(city.config(), func(l simulate.Line) error {
			if string(l.Key) != string(last) {
				last = append(last[:0], l.Key...)
				bar.Add(1)
			}
			w.Write(l.Value)
			return w.WriteByte('\n')
		})
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err)
	}()
	sum, err := ingest.Importer{Store: s}.Import(ctx, "bench-city", pr)
	pr.CloseWithError(errors.New("import stopped"))
	bar.Finish()
	if err != nil {
		return m, fmt.Errorf("load bench city: %w", err)
	}
	if sum.Refused > 0 || sum.Stored != int(sum.Lines) {
		return m, fmt.Errorf("load bench city: %d lines, %d stored, %d refused: the generator wrote lines the contract refuses", sum.Lines, sum.Stored, sum.Refused)
	}
	m.Events, m.LoadSeconds = int64(sum.Stored), time.Since(start).Seconds()
	start = time.Now()
	if err := s.Optimize(ctx); err != nil {
		return m, err
	}
	m.OptimizeSeconds, m.Loaded = time.Since(start).Seconds(), time.Now()
	a.log.Info("bench city loaded", "enterprises", city.Enterprises, "events", m.Events,
		"load_seconds", m.LoadSeconds, "optimize_seconds", m.OptimizeSeconds)
	return m, nil
}

// benchDuckDBSettings bound the bench process's DuckDB (DSN settings): by
// default it caches up to 80 % of the machine's memory, and loading 30M
// events grew it by about 1 GB a minute on a machine others share.
const benchDuckDBSettings = "?memory_limit=3GB"

// benchMemory lets the Go heap of a bulk load grow (bulkGC), but not past
// 2 GiB: at GOGC 400 alone a 30M-event load held 8 GB after 2 minutes.
// GOMEMLIMIT, when set, wins.
func benchMemory() {
	bulkGC()
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2 << 30)
	}
}

func readCityManifest(dir string) (cityManifest, error) {
	var m cityManifest
	b, err := os.ReadFile(filepath.Join(dir, benchManifestFile))
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

func writeCityManifest(dir string, m cityManifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, benchManifestFile), append(b, '\n'), 0o644)
}

// benchDir is dir, or a new temporary directory that cleanup removes.
func benchDir(dir, pattern string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o755)
	}
	tmp, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// ensureScored runs score as of benchAsOf unless the warehouse already has
// a succeeded score run, so lookups and credit files show grades.
func (a *app) ensureScored(ctx context.Context, s backend) (warehouse.Run, error) {
	runs, err := s.Runs(ctx, warehouse.RunFilter{Job: pipelines.JobScore, Status: warehouse.RunSucceeded})
	if err != nil {
		return warehouse.Run{}, err
	}
	if run, ok := warehouse.CurrentRun(runs, pipelines.JobScore, benchAsOf); ok {
		return run, nil
	}
	runner, err := a.newRunner(s, nil)
	if err != nil {
		return warehouse.Run{}, err
	}
	a.log.Info("scoring the bench city", "as_of", benchAsOf)
	return runner.Run(ctx, pipelines.RunRequest{Job: pipelines.JobScore, AsOf: benchAsOf})
}
