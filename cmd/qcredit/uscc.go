package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/model"
)

func newUSCCCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "uscc", Short: "Unified social credit codes"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check [CODE...]",
		Short: "Validate codes (one per line on stdin when none are given)",
		Long: `Validate unified social credit codes (GB 32100): length, characters, the
organisation-code check digit (position 17), the check character (position 18)
and the region. Prints CODE<TAB>ok or CODE<TAB>invalid<TAB>REASON per code and
exits 1 when any code is invalid.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			policy := model.USCCPolicy{AcceptCheckFailures: a.cfg.USCC.AcceptCheckFailures}
			out := bufio.NewWriter(cmd.OutOrStdout())
			defer out.Flush()
			bad := 0
			check := func(code string) {
				r := policy.Check(code)
				if r.Valid() {
					fmt.Fprintf(out, "%s\tok\n", code)
					return
				}
				bad++
				reasons := make([]string, len(r.Problems))
				for i, p := range r.Problems {
					reasons[i] = p.Detail
				}
				fmt.Fprintf(out, "%s\tinvalid\t%s\n", code, strings.Join(reasons, "; "))
			}
			if len(args) > 0 {
				for _, c := range args {
					check(c)
				}
			} else {
				sc := bufio.NewScanner(cmd.InOrStdin())
				for sc.Scan() {
					if c := strings.TrimSpace(sc.Text()); c != "" {
						check(c)
					}
				}
				if err := sc.Err(); err != nil {
					return fmt.Errorf("read stdin: %w", err)
				}
			}
			if bad > 0 {
				out.Flush()
				return exitError{code: 1}
			}
			return nil
		},
	})
	return cmd
}
