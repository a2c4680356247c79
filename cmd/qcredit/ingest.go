package main

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
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
Run several in one group to share the partitions.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			return a.runKafkaIngest(cmd.Context(), s, prometheus.NewRegistry(), session)
		},
	}
	cmd.Flags().DurationVar(&session, "session-timeout", 0,
		"how long the group waits for a silent member before moving its partitions (default 10s)")
	return cmd
}

// kafkaConfig is the worker configuration from the app's settings.
func (a *app) kafkaConfig() ingest.KafkaConfig {
	return ingest.KafkaConfig{
		Brokers:       a.cfg.Kafka.Brokers,
		Topics:        a.cfg.Kafka.Topics,
		Group:         a.cfg.Kafka.Group,
		BatchSize:     a.cfg.Ingest.BatchSize,
		BatchInterval: a.cfg.Ingest.BatchInterval,
	}
}

// runKafkaIngest runs one Kafka ingest worker into s until ctx ends.
func (a *app) runKafkaIngest(ctx context.Context, s warehouse.Store, reg prometheus.Registerer, session time.Duration) error {
	m, err := ingest.NewKafkaMetrics(reg)
	if err != nil {
		return err
	}
	cfg := a.kafkaConfig()
	cfg.SessionTimeout = session
	w, err := ingest.NewKafkaWorker(ingest.KafkaWorkerInput{
		Config:  cfg,
		Store:   s,
		Decoder: ingest.Decoder{Policy: model.USCCPolicy{AcceptCheckFailures: a.cfg.USCC.AcceptCheckFailures}},
		Metrics: m,
		Log:     a.log,
	})
	if err != nil {
		return err
	}
	err = w.Run(ctx)
	t := w.Total()
	a.log.Info("kafka ingest stopped", "stored", t.Stored, "duplicates", t.Duplicates, "dead_lettered", t.DeadLettered)
	return err
}

// alongsideKafkaIngest runs fn and, when brokers are configured, a Kafka
// ingest worker next to it, both until ctx ends or either fails.
func (a *app) alongsideKafkaIngest(ctx context.Context, s warehouse.Store, reg prometheus.Registerer, fn func(context.Context) error) error {
	if len(a.cfg.Kafka.Brokers) == 0 {
		return fn(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ingestErr := make(chan error, 1)
	go func() {
		defer cancel()
		ingestErr <- a.runKafkaIngest(ctx, s, reg, 0)
	}()
	err := fn(ctx)
	cancel()
	return errors.Join(err, <-ingestErr)
}
