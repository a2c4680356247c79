package main

import "github.com/spf13/cobra"

func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure import, ingest and pipeline speed on this machine",
	}
	cmd.AddCommand(newBenchImportCmd(a), newBenchIngestCmd(a), newBenchScoreCmd(a), newBenchSearchCmd(a),
		newBenchHTTPIngestCmd(a), newBenchLoadgenCmd(), newBenchClustersCmd(a), newBenchListsCmd(a))
	return cmd
}
