package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// scoreBench is the measured score run.
type scoreBench struct {
	Enterprises     int              `json:"enterprises"`
	Events          int              `json:"events"`
	GenerateSeconds float64          `json:"generate_seconds"`
	ScoreSeconds    float64          `json:"score_seconds"`
	CPUs            int              `json:"cpus"`
	Counts          map[string]int64 `json:"counts"`
	Digest          string           `json:"digest"`
}

func newBenchScoreCmd(a *app) *cobra.Command {
	var enterprises, events int
	var dir, profile string
	cmd := &cobra.Command{
		Use:   "score",
		Short: "Generate 1,000,000 enterprises with 30,000,000 events in DuckDB and time a full score run",
		Long: `Generates the events with DuckDB SQL straight into a fresh warehouse file
(pseudo-random but deterministic: the same sizes give the same data), then
times one score run as of 2026-06-30 and prints the result as JSON.
The target on a 2-core machine is 30 s for the score run.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if enterprises < 1 || events < enterprises {
				return fmt.Errorf("need at least 1 enterprise and as many events as enterprises")
			}
			return a.benchScore(cmd, dir, profile, enterprises, events)
		},
	}
	cmd.Flags().IntVar(&enterprises, "enterprises", 1_000_000, "enterprises to generate")
	cmd.Flags().IntVar(&events, "events", 30_000_000, "events to generate (registrations included)")
	cmd.Flags().StringVar(&dir, "dir", "", "directory for the benchmark warehouse (default: a temporary one, removed after)")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the score run to the file")
	return cmd
}

func (a *app) benchScore(cmd *cobra.Command, dir, profile string, enterprises, events int) error {
	ctx := cmd.Context()
	if dir == "" {
		tmp, err := os.MkdirTemp("", "qcredit-bench-score-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	s, err := duckdb.Open(ctx, filepath.Join(dir, "bench.duckdb"), a.log)
	if err != nil {
		return err
	}
	defer func() { s.Close() }() // s is reopened after generating
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	res := scoreBench{Enterprises: enterprises, Events: events, CPUs: runtime.NumCPU()}
	start := time.Now()
	var stored int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&stored); err != nil {
		return err
	}
	switch stored {
	case events:
		// Generating takes minutes: a kept --dir of the same size is reused.
		a.log.Info("reusing the generated events", "dir", dir, "events", stored)
	case 0:
		a.log.Info("generating", "enterprises", enterprises, "events", events)
		if err := generateBenchEvents(ctx, s, enterprises, events); err != nil {
			return err
		}
		// Reopen, so the timed run starts as a scheduled run would, not in a
		// buffer pool full of the generator's work (that made it ~40 % slower).
		if err := s.Close(); err != nil {
			return fmt.Errorf("close after generating: %w", err)
		}
		if s, err = duckdb.Open(ctx, filepath.Join(dir, "bench.duckdb"), a.log); err != nil {
			return err
		}
		res.GenerateSeconds = time.Since(start).Seconds()
		a.log.Info("generated", "seconds", res.GenerateSeconds)
	default:
		return fmt.Errorf("%s holds %d events, not %d: use an empty --dir", dir, stored, events)
	}

	sc, err := scoring.Default()
	if err != nil {
		return err
	}
	rules, err := lists.Default()
	if err != nil {
		return err
	}
	job, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: s, Listing: s, Scorecard: sc, Rules: rules, Log: a.log})
	if err != nil {
		return err
	}
	runner, err := pipelines.NewRunner(s, a.log, pipelines.RunnerOptions{Jobs: []pipelines.Job{job}})
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
	start = time.Now()
	run, err := runner.Run(ctx, pipelines.RunRequest{Job: pipelines.JobScore, AsOf: "2026-06-30"})
	if err != nil {
		return err
	}
	res.ScoreSeconds = time.Since(start).Seconds()
	res.Counts, res.Digest = run.Counts, run.Digest
	return printJSON(cmd, res)
}

// benchEventsSQL makes events n in [0, $events - $enterprises) for
// enterprise n % $enterprises, with kinds, results and severities drawn from
// hash(n) in proportions like the simulator's, and times spread over five
// years before 2026-06-30 (so some fall out of the 36-month look-back).
const benchEventsSQL = `
INSERT INTO events
WITH r AS (
    SELECT i, 'BENCH' || lpad(CAST(i % $enterprises AS VARCHAR), 13, '0') AS uscc,
        CAST(hash(i) % 1000 AS BIGINT) AS k, CAST(hash(i + 7919) % 1000 AS BIGINT) AS h,
        TIMESTAMPTZ '2021-07-01 00:00:00+08' + to_seconds(CAST(hash(i + 104729) % 157680000 AS BIGINT)) AS ts
    FROM range(CAST($events AS BIGINT) - $enterprises) t(i)
), e AS (
    SELECT i, uscc, h, ts, CASE
        WHEN k < 350 THEN 'spot_check.completed' WHEN k < 600 THEN 'equipment.inspected'
        WHEN k < 700 THEN 'equipment.registered' WHEN k < 760 THEN 'complaint.received'
        WHEN k < 800 THEN 'complaint.closed' WHEN k < 830 THEN 'equipment.hazard_found'
        WHEN k < 850 THEN 'equipment.hazard_corrected' WHEN k < 880 THEN 'penalty.decided'
        WHEN k < 885 THEN 'penalty.revoked' WHEN k < 890 THEN 'credit.repaired'
        WHEN k < 940 THEN 'certification.granted' WHEN k < 970 THEN 'standard.declared'
        WHEN k < 990 THEN 'award.granted' WHEN k < 995 THEN 'licence.granted'
        WHEN k < 997 THEN 'licence.revoked' ELSE 'equipment.accident' END AS type
    FROM r
)
SELECT 'bench-' || i, type, uscc, '320800', ts, NULL,
    CASE WHEN type IN ('equipment.hazard_found', 'equipment.hazard_corrected') THEN 'H' || (h % 4)
         WHEN type IN ('penalty.decided', 'penalty.revoked', 'credit.repaired') THEN 'P' || (h % 8)
         ELSE 'R' || i END,
    CASE WHEN type = 'spot_check.completed' AND h < 20 THEN 'C' || (h % 3) ELSE '' END,
    CASE WHEN type IN ('spot_check.completed', 'equipment.inspected') THEN (CASE WHEN h < 60 THEN 'fail' ELSE 'pass' END)
         WHEN type = 'complaint.closed' THEN (CASE WHEN h < 300 THEN 'verified' ELSE 'unverified' END)
         ELSE '' END,
    CASE WHEN type = 'spot_check.completed' AND h < 60 THEN (CASE WHEN h < 40 THEN 'minor' WHEN h < 55 THEN 'major' ELSE 'critical' END)
         WHEN type = 'penalty.decided' THEN (CASE WHEN h < 600 THEN 'light' WHEN h < 900 THEN 'general' ELSE 'heavy' END)
         WHEN type = 'equipment.hazard_found' THEN (CASE WHEN h < 200 THEN 'serious' ELSE 'ordinary' END)
         WHEN type = 'equipment.accident' THEN (CASE WHEN h < 900 THEN 'general' ELSE 'larger' END)
         ELSE '' END,
    CASE WHEN type = 'penalty.decided' THEN (['counterfeit', 'substandard', 'unlicensed', 'false_labeling', 'special_equipment', 'metrology', 'obstruction', 'other'])[1 + h % 8]
         WHEN type = 'licence.revoked' THEN (['violation', 'fraud', 'other'])[1 + h % 3]
         ELSE '' END,
    NULL,
    CASE WHEN type = 'equipment.hazard_found' THEN CAST(ts + INTERVAL 30 DAY AS DATE) END,
    '{}', hash(i), 'bench', now(), uscc_sort_key(uscc)
FROM e`

const benchRegistrationsSQL = `
INSERT INTO events
SELECT 'bench-reg-' || i, 'enterprise.registered', 'BENCH' || lpad(CAST(i AS VARCHAR), 13, '0'), '320800',
    TIMESTAMPTZ '2015-01-01 00:00:00+08', NULL, '', '', '', '', '', NULL, NULL,
    '{"industry":"C' || (13 + i % 31) || '11","name":"企业' || i || '","region":"320830"}', hash(i), 'bench', now(),
    uscc_sort_key('BENCH' || lpad(CAST(i AS VARCHAR), 13, '0'))
FROM range($enterprises) t(i)`

func generateBenchEvents(ctx context.Context, s *duckdb.Store, enterprises, events int) error {
	for _, q := range []string{benchRegistrationsSQL, benchEventsSQL} {
		if _, err := s.DB().ExecContext(ctx, q, sql.Named("enterprises", enterprises), sql.Named("events", events)); err != nil {
			return fmt.Errorf("generate bench events: %w", err)
		}
	}
	return nil
}
