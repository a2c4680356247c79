package main

import "github.com/spf13/cobra"

func newBenchImportCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "import", Short: "not built yet"}
}
