package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/pipelines"
)

// scoreBench is the measured score run.
type scoreBench struct {
	City            benchCity        `json:"city"`
	Events          int64            `json:"events"`
	Reused          bool             `json:"reused"`
	LoadSeconds     float64          `json:"load_seconds"`
	OptimizeSeconds float64          `json:"optimize_seconds"`
	ScoreSeconds    float64          `json:"score_seconds"`
	CPUs            int              `json:"cpus"`
	Run             string           `json:"run"`
	Counts          map[string]int64 `json:"counts"`
	Digest          string           `json:"digest"`
}

func newBenchScoreCmd(a *app) *cobra.Command {
	var city benchCity
	var dir, profile string
	cmd := &cobra.Command{
		Use:   "score",
		Short: "Time a full score run over the bench city (1,000,000 enterprises, about 30,000,000 events) in DuckDB",
		Long: `Loads the bench city into a DuckDB warehouse in --dir (not timed; a city of
the same size left there by an earlier benchmark is reused), then times one
score run as of 2026-06-30: the warehouse aggregates every enterprise's
features over the 36 months before it, the scorecard scores them in Go, and
the run writes one output per enterprise. Prints the result as JSON.
The target on a 2-core machine is 30 s for the score run.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if city.Enterprises < 1 {
				return fmt.Errorf("--enterprises must be at least 1")
			}
			ctx := cmd.Context()
			dir, cleanup, err := benchDir(dir, "qcredit-bench-score-")
			if err != nil {
				return err
			}
			defer cleanup()
			s, m, reused, err := a.openBenchCity(ctx, dir, city)
			if err != nil {
				return err
			}
			defer s.Close()
			res := scoreBench{City: city, Events: m.Events, Reused: reused, CPUs: runtime.NumCPU()}
			if !reused {
				res.LoadSeconds, res.OptimizeSeconds = m.LoadSeconds, m.OptimizeSeconds
			}
			runner, err := a.newRunner(s, nil)
			if err != nil {
				return err
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
			start := time.Now()
			run, err := runner.Run(ctx, pipelines.RunRequest{Job: pipelines.JobScore, AsOf: benchAsOf})
			if err != nil {
				return err
			}
			res.ScoreSeconds = time.Since(start).Seconds()
			res.Run, res.Counts, res.Digest = run.ID, run.Counts, run.Digest
			return printJSON(cmd, res)
		},
	}
	benchCityFlags(cmd, &city)
	cmd.Flags().StringVar(&dir, "dir", "", "directory for the bench city's warehouse, kept for the next benchmark (default: a temporary one, removed after)")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the score run to the file")
	return cmd
}
