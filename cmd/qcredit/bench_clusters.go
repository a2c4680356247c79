package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/pipelines"
)

// clustersBench is the measured clusters run.
type clustersBench struct {
	City            benchCity        `json:"city"`
	Events          int64            `json:"events"`
	Reused          bool             `json:"reused"`
	LoadSeconds     float64          `json:"load_seconds"`
	ScoreSeconds    float64          `json:"score_seconds"`
	ClustersSeconds float64          `json:"clusters_seconds"`
	CPUs            int              `json:"cpus"`
	Run             string           `json:"run"`
	Counts          map[string]int64 `json:"counts"`
	Digest          string           `json:"digest"`
}

func newBenchClustersCmd(a *app) *cobra.Command {
	var city benchCity
	var dir string
	cmd := &cobra.Command{
		Use:   "clusters",
		Short: "Time a clusters run over the bench city (1,000,000 enterprises, about 30,000,000 events) in DuckDB",
		Long: `Loads the bench city into a DuckDB warehouse in --dir as bench score does
(reused when an earlier benchmark left one of the same size), scores it as of
2026-06-30 (timed on its own: the clusters run reads the grades), then times
one clusters run as of the same day and prints the result as JSON. The
simulator plants rising clusters, so the run has warnings to raise. The target
on a 2-core machine is 15 s for the clusters run.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if city.Enterprises < 1 {
				return fmt.Errorf("--enterprises must be at least 1")
			}
			ctx := cmd.Context()
			dir, cleanup, err := benchDir(dir, "qcredit-bench-clusters-")
			if err != nil {
				return err
			}
			defer cleanup()
			s, m, reused, err := a.openBenchCity(ctx, dir, city)
			if err != nil {
				return err
			}
			defer s.Close()
			res := clustersBench{City: city, Events: m.Events, Reused: reused, CPUs: runtime.NumCPU()}
			if !reused {
				res.LoadSeconds = m.LoadSeconds + m.OptimizeSeconds
			}
			runner, err := a.newRunner(s, nil)
			if err != nil {
				return err
			}
			start := time.Now()
			if _, err := runner.Run(ctx, pipelines.RunRequest{Job: pipelines.JobScore, AsOf: benchAsOf}); err != nil {
				return err
			}
			res.ScoreSeconds = time.Since(start).Seconds()
			start = time.Now()
			run, err := runner.Run(ctx, pipelines.RunRequest{Job: pipelines.JobClusters, AsOf: benchAsOf})
			if err != nil {
				return err
			}
			res.ClustersSeconds = time.Since(start).Seconds()
			res.Run, res.Counts, res.Digest = run.ID, run.Counts, run.Digest
			return printJSON(cmd, res)
		},
	}
	benchCityFlags(cmd, &city)
	cmd.Flags().StringVar(&dir, "dir", "", "directory for the bench city's warehouse, kept for the next benchmark (default: a temporary one, removed after)")
	return cmd
}
