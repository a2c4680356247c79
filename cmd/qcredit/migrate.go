package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/warehouse"
)

func newMigrateCmd(a *app) *cobra.Command {
	var cluster string
	var replicated bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending warehouse migrations (also done on every start)",
		Long: `Apply pending warehouse migrations (also done on every start).

With --cluster NAME (ClickHouse only) the DDL runs ON CLUSTER NAME: rows go
to Replicated*MergeTree *_local tables on every server, queried through
Distributed tables of the usual names. Later commands must use the same
cluster: add ?cluster=NAME to the clickhouse:// warehouse URL.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := withCluster(a.cfg.Warehouse, cluster, replicated)
			if err != nil {
				return err
			}
			s, err := openWarehouse(cmd.Context(), raw, warehouse.OpenModeCreate, a)
			if err != nil {
				return err
			}
			defer s.Close()
			applied, err := s.Migrate(cmd.Context())
			for _, m := range applied {
				fmt.Fprintln(cmd.OutOrStdout(), "applied", m)
			}
			if err == nil && len(applied) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "up to date")
			}
			return err
		},
	}
	cmd.Flags().StringVar(&cluster, "cluster", "", "ClickHouse cluster (remote_servers name) to create the tables on")
	cmd.Flags().BoolVar(&replicated, "replicated", true, "with --cluster: Replicated*MergeTree engines (need ZooKeeper)")
	return cmd
}

// withCluster puts --cluster (and --replicated=false) into a clickhouse://
// warehouse URL, where every later command reads it too.
func withCluster(raw, cluster string, replicated bool) (string, error) {
	if cluster == "" {
		return raw, nil
	}
	if !strings.HasPrefix(raw, "clickhouse://") {
		return "", fmt.Errorf("--cluster needs a clickhouse:// warehouse, not %q", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("warehouse %q: %w", raw, err)
	}
	q := u.Query()
	q.Set("cluster", cluster)
	if !replicated {
		q.Set("replicated", "false")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
