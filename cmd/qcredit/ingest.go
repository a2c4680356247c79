package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/warehouse"
)

func newIngestCmd(a *app) *cobra.Command {
	var session time.Duration
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Consume events from Kafka into the warehouse (one member of the consumer group)",
		Long: `Consumes QCREDIT_KAFKA_TOPICS on QCREDIT_KAFKA_BROKERS as a member of the
consumer group QCREDIT_KAFKA_GROUP. Batches close at ingest.batch_size messages
or ingest.batch_interval after their first message; a batch's offsets are
committed only after the warehouse stored it, so a crash loses nothing and what
is redelivered is stored once. SIGTERM stores the batch in hand and exits.

Neither a broker restart nor a warehouse outage ends it: both are retried
with backoff and show on /readyz. /metrics, /healthz and /readyz are served
on ingest.listen (default :9091; "off" turns them off).
Run several in one group to share the partitions.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			reg := prometheus.NewRegistry()
			w, err := a.newKafkaWorker(s, reg, session)
			if err != nil {
				return err
			}
			stop, err := a.serveWorkerOps(ctx, reg, w.Health)
			if err != nil {
				return err
			}
			defer stop()
			return a.runWorker(ctx, w)
		},
	}
	cmd.Flags().DurationVar(&session, "session-timeout", 0,
		"how long the group waits for a silent member before moving its partitions (default 10s)")
	cmd.Flags().String("ingest-listen", "", `address of /metrics, /healthz and /readyz (env QCREDIT_INGEST_LISTEN, default :9091; "off" for none)`)
	return cmd
}

// serveWorkerOps serves the ops endpoints of a `qcredit ingest` worker on
// ingest.listen until stop is called.
func (a *app) serveWorkerOps(ctx context.Context, reg *prometheus.Registry, health func() ingest.Health) (stop func(), err error) {
	addr := a.cfg.Ingest.Listen
	if addr == "" || addr == "off" {
		return func() {}, nil
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		h := health()
		r := api.Readiness{Status: "ready", Ingest: &h}
		if h.Status != ingest.HealthOK {
			r.Status = "degraded"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(r)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ingest.listen %s: %w", addr, err)
	}
	a.log.Info("serving ingest metrics", "addr", ln.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// kafkaConfig is the worker configuration from the app's settings.
func (a *app) kafkaConfig() ingest.KafkaConfig {
	return ingest.KafkaConfig{
		Brokers:       a.cfg.Kafka.Brokers,
		Topics:        a.cfg.Kafka.Topics,
		Group:         a.cfg.Kafka.Group,
		BatchSize:     a.cfg.Ingest.BatchSize,
		BatchInterval: a.cfg.Ingest.BatchInterval,
		MaxBackoff:    a.cfg.Ingest.MaxBackoff,
	}
}

// newKafkaWorker builds the Kafka ingest worker from the configuration; an
// error here is a configuration error.
func (a *app) newKafkaWorker(s warehouse.Store, reg prometheus.Registerer, session time.Duration) (*ingest.KafkaWorker, error) {
	m, err := ingest.NewKafkaMetrics(reg)
	if err != nil {
		return nil, err
	}
	cfg := a.kafkaConfig()
	cfg.SessionTimeout = session
	return ingest.NewKafkaWorker(ingest.KafkaWorkerInput{
		Config:  cfg,
		Store:   s,
		Decoder: a.decoder(),
		Metrics: m,
		Log:     a.log,
	})
}

// runWorker runs w until ctx ends. The worker outlives a failing broker or
// warehouse (it retries), so it returns only once ctx has ended.
func (a *app) runWorker(ctx context.Context, w *ingest.KafkaWorker) error {
	err := w.Run(ctx)
	t := w.Total()
	a.log.Info("kafka ingest stopped", "stored", t.Stored, "duplicates", t.Duplicates, "dead_lettered", t.DeadLettered)
	return err
}

// alongsideKafkaIngest runs fn and, when brokers are configured, a Kafka
// ingest worker next to it, until ctx ends or fn returns. fn gets the
// worker's health (nil without brokers). Trouble in ingest never stops fn:
// the worker retries a failing broker or warehouse by itself, and should it
// ever return early its error is logged and /readyz shows it stopped.
func (a *app) alongsideKafkaIngest(ctx context.Context, s warehouse.Store, reg prometheus.Registerer,
	fn func(context.Context, func() ingest.Health) error) error {
	if len(a.cfg.Kafka.Brokers) == 0 {
		return fn(ctx, nil)
	}
	w, err := a.newKafkaWorker(s, reg, 0)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ingestDone := make(chan error, 1)
	go func() { ingestDone <- a.runWorker(ctx, w) }()
	err = fn(ctx, w.Health)
	cancel()
	if ierr := <-ingestDone; ierr != nil {
		a.log.Error("kafka ingest", "err", ierr)
	}
	return err
}
