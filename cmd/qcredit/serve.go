package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/warehouse"
)

func newServeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API (and, when configured, ingest from Kafka and run the pipelines)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			reg := prometheus.NewRegistry()
			return a.alongsideKafkaIngest(cmd.Context(), s, reg, func(ctx context.Context, ih func() ingest.Health) error {
				return a.serve(ctx, s, reg, ih, nil)
			})
		},
	}
	cmd.Flags().String("listen", "", "address to listen on (env QCREDIT_LISTEN, default :8080)")
	return cmd
}

// serve runs the API until ctx ends; ingestHealth, when set, reports the
// ingest worker beside it on /readyz; ready, when set, is called once the
// listener is open.
func (a *app) serve(ctx context.Context, s warehouse.Store, reg *prometheus.Registry, ingestHealth func() ingest.Health, ready func(addr string)) error {
	srv := &http.Server{
		Handler:           api.New(s, a.log, api.Options{Registry: reg, IngestHealth: ingestHealth}).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	stopPipelines, err := a.startPipelines(ctx, s, reg)
	if err != nil {
		return err
	}
	defer stopPipelines()
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.Listen, err)
	}
	a.log.Info("serving", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
