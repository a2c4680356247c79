package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// clustersBench is the measured clusters run.
type clustersBench struct {
	Enterprises     int              `json:"enterprises"`
	Events          int              `json:"events"`
	GenerateSeconds float64          `json:"generate_seconds"`
	ScoreSeconds    float64          `json:"score_seconds"`
	ClustersSeconds float64          `json:"clusters_seconds"`
	CPUs            int              `json:"cpus"`
	Counts          map[string]int64 `json:"counts"`
	Digest          string           `json:"digest"`
}

func newBenchClustersCmd(a *app) *cobra.Command {
	var enterprises, events int
	var dir string
	cmd := &cobra.Command{
		Use:   "clusters",
		Short: "Generate 1,000,000 enterprises with 30,000,000 events in DuckDB and time a clusters run",
		Long: `Generates the events as bench score does (DuckDB SQL, deterministic), scores
them once as of 2026-06-30 (untimed beyond its own figure: the clusters run
reads the grades), then times one clusters run as of the same day and prints
the result as JSON. The target on a 2-core machine is 15 s for the clusters run.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if enterprises < 1 || events < enterprises {
				return fmt.Errorf("need at least 1 enterprise and as many events as enterprises")
			}
			return a.benchClusters(cmd, dir, enterprises, events)
		},
	}
	cmd.Flags().IntVar(&enterprises, "enterprises", 1_000_000, "enterprises to generate")
	cmd.Flags().IntVar(&events, "events", 30_000_000, "events to generate (registrations included)")
	cmd.Flags().StringVar(&dir, "dir", "", "directory for the benchmark warehouse (default: a temporary one, removed after); a kept one of the same size is reused")
	return cmd
}

func (a *app) benchClusters(cmd *cobra.Command, dir string, enterprises, events int) error {
	ctx := cmd.Context()
	if dir == "" {
		tmp, err := os.MkdirTemp("", "qcredit-bench-clusters-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	path := filepath.Join(dir, "bench.duckdb")
	s, err := duckdb.Open(ctx, path, a.log)
	if err != nil {
		return err
	}
	defer func() { s.Close() }() // s is reopened after generating
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	res := clustersBench{Enterprises: enterprises, Events: events, CPUs: runtime.NumCPU()}
	var stored int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&stored); err != nil {
		return err
	}
	switch stored {
	case events:
		a.log.Info("reusing the generated events", "dir", dir, "events", stored)
	case 0:
		start := time.Now()
		a.log.Info("generating", "enterprises", enterprises, "events", events)
		if err := generateBenchEvents(ctx, s, enterprises, events); err != nil {
			return err
		}
		// Reopen, so the timed runs start as scheduled runs would (see bench score).
		if err := s.Close(); err != nil {
			return fmt.Errorf("close after generating: %w", err)
		}
		if s, err = duckdb.Open(ctx, path, a.log); err != nil {
			return err
		}
		res.GenerateSeconds = time.Since(start).Seconds()
	default:
		return fmt.Errorf("%s holds %d events, not %d: use an empty --dir", dir, stored, events)
	}

	sc, err := scoring.Default()
	if err != nil {
		return err
	}
	method, err := clusters.Default()
	if err != nil {
		return err
	}
	rules, err := lists.Default()
	if err != nil {
		return err
	}
	score, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: s, Listing: s, Scorecard: sc, Rules: rules, Log: a.log})
	if err != nil {
		return err
	}
	runner, err := pipelines.NewRunner(s, a.log, pipelines.RunnerOptions{Jobs: []pipelines.Job{score, pipelines.NewClustersJob(s, method, a.log)}})
	if err != nil {
		return err
	}
	const asOf = "2026-06-30"
	start := time.Now()
	if _, err := runner.Run(ctx, pipelines.RunRequest{Job: pipelines.JobScore, AsOf: asOf}); err != nil {
		return err
	}
	res.ScoreSeconds = time.Since(start).Seconds()
	start = time.Now()
	run, err := runner.Run(ctx, pipelines.RunRequest{Job: pipelines.JobClusters, AsOf: asOf})
	if err != nil {
		return err
	}
	res.ClustersSeconds = time.Since(start).Seconds()
	res.Counts, res.Digest = run.Counts, run.Digest
	return printJSON(cmd, res)
}
