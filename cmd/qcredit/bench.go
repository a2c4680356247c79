package main

import "github.com/spf13/cobra"

func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure import, ingest, pipeline and API speed on this machine",
	}
	cmd.AddCommand(newBenchImportCmd(a), newBenchIngestCmd(a), newBenchScoreCmd(a), newBenchLookupCmd(a),
		newBenchCreditFileCmd(a), newBenchBareServerCmd(), newBenchSearchCmd(a), newBenchHTTPIngestCmd(a),
		newBenchLoadgenCmd(), newBenchClustersCmd(a), newBenchListsCmd(a))
	return cmd
}
