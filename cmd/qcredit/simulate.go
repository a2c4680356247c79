package main

import "github.com/spf13/cobra"

func newSimulateCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "simulate", Short: "Generate realistic synthetic Huai'an supervision data"}
}
