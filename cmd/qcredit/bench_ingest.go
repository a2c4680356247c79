package main

import "github.com/spf13/cobra"

func newBenchIngestCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "ingest", Short: "not built yet"}
}
