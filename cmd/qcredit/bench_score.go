package main

import "github.com/spf13/cobra"

func newBenchScoreCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "score", Short: "not built yet"}
}
