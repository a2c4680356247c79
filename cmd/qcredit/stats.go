package main

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/warehouse"
)

func newStatsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Print counts of events, enterprises and dead letters as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runOp(cmd, warehouse.OpenModeExisting, "stats", struct{}{}, nil, cmd.OutOrStdout())
		},
	}
}

func opStats(ctx context.Context, e *opEnv, _ json.RawMessage) error {
	st, err := e.store.Stats(ctx)
	if err != nil {
		return err
	}
	return writeJSON(e.out, st)
}
