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
	"github.com/qcredit/qcredit/dashboards"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/serving"
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

// withRunner gives tasks without a Run the runner's: a Task whose Name is
// a job runs that job as of today (qcredit dev's frequent scoring).
func withRunner(tasks []pipelines.Task, r *pipelines.Runner) []pipelines.Task {
	out := make([]pipelines.Task, len(tasks))
	for i, t := range tasks {
		if t.Run == nil {
			job := t.Name
			t.Run = func(ctx context.Context) error {
				_, err := r.Run(ctx, pipelines.RunRequest{Job: job})
				if errors.Is(err, pipelines.ErrRunning) {
					return nil
				}
				return err
			}
		}
		out[i] = t
	}
	return out
}

// serve runs the API, the read model's refresh and the scheduler until ctx
// ends; ingestHealth, when set, reports the ingest worker beside it on
// /readyz; ready, when set, is called once the listener is open.
func (a *app) serve(ctx context.Context, s backend, reg *prometheus.Registry, ingestHealth func() ingest.Health,
	ready func(addr string, rm *serving.Store), tasks ...pipelines.Task) error {
	rm, err := serving.NewStore(s, a.log, serving.Options{Interval: a.cfg.Serving.Refresh, Registerer: reg,
		Penalties: serving.PenaltyPeriods{Light: a.cfg.Serving.PenaltyMonthsLight, General: a.cfg.Serving.PenaltyMonthsGeneral,
			Heavy: a.cfg.Serving.PenaltyMonthsHeavy},
		Parts: append([]serving.PartLoader{serving.MovementPart(), serving.StatsPart(), serving.ClustersPart(),
			serving.ListsLoader(serving.ListsOptions{Retention: a.cfg.Lists.Retention, Log: a.log})}, planningParts()...)})
	if err != nil {
		return err
	}
	if err := rm.Load(ctx); err != nil {
		return err
	}
	runner, err := a.newRunner(s, reg)
	if err != nil {
		return err
	}
	opts := a.apiOptions(reg, ingestHealth)
	opts.Runner, opts.UI, opts.DevSession = runner, dashboards.Handler(), a.devSession
	opts.Draws = pipelines.NewLottery(s, runner, a.log, pipelines.LotteryOptions{})
	apiSrv, err := api.New(ctx, s, rm, a.log, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := apiSrv.Close(); err != nil {
			a.log.Error("audit records not written at shutdown", "err", err)
		}
	}()
	// Loading the read model and the API's keys and complaints read the
	// events table; what the warehouse cached of it is released before the
	// refresh, the scheduler and the listener start (the API's own
	// refreshes come seconds later; a Kafka worker's write meanwhile is
	// retried).
	if err := s.ReleaseMemory(ctx); err != nil {
		a.log.Warn("release the warehouse's memory after loading the read model", "err", err)
	}
	refreshCtx, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	go rm.Run(refreshCtx)
	srv := newHTTPServer(apiSrv.Handler())
	stopPipelines, err := a.startPipelines(ctx, s, runner, withRunner(tasks, runner)...)
	if err != nil {
		return err
	}
	defer stopPipelines()
	stopAdmin, err := a.serveAdmin(ctx, s, runner, apiSrv.ReloadKeys)
	if err != nil {
		return err
	}
	defer stopAdmin()
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.Listen, err)
	}
	a.log.Info("serving", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String(), rm)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful: the listener closes at once, requests in flight (an export,
	// an ingest body) get up to 30 s to finish, then the audit buffer is
	// written (the deferred Close).
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newHTTPServer is the API's HTTP server with its timeouts: headers within
// 10 s, a whole request body within 2 min (an ingest body of the largest
// size on a slow line), idle keep-alive connections closed after 2 min.
// There is no write timeout: exports stream for as long as they take; a
// client that stops reading is cut off by TCP.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// apiOptions are the API's options from the configuration.
func (a *app) apiOptions(reg *prometheus.Registry, ingestHealth func() ingest.Health) api.Options {
	return api.Options{Registry: reg, IngestHealth: ingestHealth, KeyRefresh: a.cfg.API.KeyRefresh,
		PublicRate:     api.RateLimit{PerSecond: a.cfg.API.PublicRate, Burst: a.cfg.API.PublicBurst},
		TrustedProxies: a.cfg.API.TrustedProxies,
		Decoder:        a.decoder(), Chromium: a.cfg.Clusters.Chromium}
}
