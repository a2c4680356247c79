package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/simulate"
)

func newDevCmd(a *app) *cobra.Command {
	var enterprises, years int
	var seed int64
	var broker string
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Everything on one machine: simulate Huai'an, import it, serve on :8080",
		Long: `The one-command demo. Simulates a city (20,000 enterprises over 3 years by
default), imports it into ./data/qcredit.duckdb unless that already holds
events, and serves the API. Data is kept between runs; delete ./data to start over.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := s.Stats(ctx)
			if err != nil {
				return err
			}
			if st.Events.Total == 0 {
				path := filepath.Join("data", "simulated.jsonl")
				a.log.Info("simulating Huai'an", "enterprises", enterprises, "years", years, "seed", seed, "file", path)
				if err := writeSimulation(path, simulate.Config{Enterprises: enterprises, Years: years, Seed: seed,
					End: time.Now().UTC().Truncate(24 * time.Hour)}); err != nil {
					return err
				}
				im := ingest.Importer{Store: s, Decoder: a.decoder()}
				sum, err := im.ImportFile(ctx, path)
				if err != nil {
					return err
				}
				a.log.Info("imported", "stored", sum.Stored, "dead_lettered", sum.DeadLettered)
			} else {
				a.log.Info("warehouse already holds data; skipping simulation", "events", st.Events.Total)
			}
			reg := prometheus.NewRegistry()
			// Every job as of each past month-end (once) and today, so the API
			// and the dashboards have grades and history from the start.
			if err := a.devHistory(ctx, s, reg, years); err != nil {
				return err
			}
			a.devSession = true
			return a.withDevKafka(ctx, broker, s, reg, func(ctx context.Context, ih func() ingest.Health) error {
				// The live bureaus report all the time: score as of today every few
				// minutes too, so grades change while a user watches.
				return a.serve(ctx, s, reg, ih, func(addr string, rm *serving.Store) {
					printDevBanner(cmd.OutOrStdout(), addr, a.cfg.Warehouse, a.cfg.Kafka.Topics[0], gradeExamples(rm.Current()))
					fmt.Fprintf(cmd.OutOrStdout(), "  dashboards: http://%s/   (development session: no key needed)\n", bannerHost(addr))
				}, pipelines.Task{Name: pipelines.JobScore, Schedule: devScoreSchedule},
					pipelines.Task{Name: pipelines.JobStats, Schedule: devScoreSchedule})
			})
		},
	}
	cmd.Flags().String("listen", "", "address to listen on (default :8080)")
	cmd.Flags().IntVar(&enterprises, "enterprises", 20000, "enterprises to simulate")
	cmd.Flags().IntVar(&years, "years", 3, "years of history to simulate")
	cmd.Flags().Int64Var(&seed, "seed", 1, "simulation seed")
	cmd.Flags().StringVar(&broker, "broker", devBrokerAddr, "address of the in-memory Kafka broker")
	return cmd
}

// devScoreSchedule is how often qcredit dev scores as of today.
const devScoreSchedule = "*/5 * * * *"

func writeSimulation(path string, cfg simulate.Config) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = simulate.Generate(cfg, func(line []byte) error {
		w.Write(line)
		return w.WriteByte('\n')
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("simulate into %s: %w", path, err)
	}
	return nil
}

// gradeExamples picks one scored enterprise per grade for the banner.
func gradeExamples(m *serving.Model) []serving.Firm {
	var out []serving.Firm
	for _, g := range model.Grades {
		if page := m.Firms(serving.FirmFilter{Grade: g}, 0, 1); len(page.Items) > 0 {
			out = append(out, page.Items[0])
		}
	}
	return out
}

// bannerHost is addr as a browser on this machine reaches it.
func bannerHost(addr string) string {
	if strings.HasPrefix(addr, "[::]") || strings.HasPrefix(addr, "0.0.0.0") {
		return "localhost" + addr[strings.LastIndex(addr, ":"):]
	}
	return addr
}

func printDevBanner(w io.Writer, addr, warehouseURL, topic string, examples []serving.Firm) {
	host := bannerHost(addr)
	fmt.Fprintf(w, `
qcredit dev is running (warehouse: %[4]s)
  health:  http://%[1]s/healthz    metrics: http://%[1]s/metrics
  kafka:   %[2]s (in-memory broker, development only; simulated bureaus publish
           to topic %[3]s, consumed by the ingest worker)
  scores:  curl 'http://%[1]s/api/v1/scores?grade=D&limit=10'
`, host, devBrokerAddr, topic, warehouseURL)
	for _, e := range examples {
		fmt.Fprintf(w, "  grade %s: curl http://%s/api/v1/public/enterprises/%s   # %s\n", e.Grade, host, e.USCC, e.Name)
		fmt.Fprintf(w, "           curl http://%s/api/v1/enterprises/%s          # the credit file\n", host, e.USCC)
	}
	fmt.Fprintln(w, "Stop with Ctrl-C.")
}
