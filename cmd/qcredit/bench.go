package main

import "github.com/spf13/cobra"

func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure import, ingest and pipeline speed on this machine",
	}
	cmd.AddCommand(newBenchImportCmd(a), newBenchIngestCmd(a), newBenchScoreCmd(a), newBenchListsCmd(a), newBenchLoadCmd())
	return cmd
}
