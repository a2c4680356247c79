package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// deadLetterReader is what `qcredit dead-letters` needs of a warehouse.
type deadLetterReader interface {
	DeadLetters(ctx context.Context, f warehouse.DeadLetterFilter) ([]warehouse.StoredDeadLetter, error)
}

// opDeadLetters writes the dead letters of the filter as JSON.
func opDeadLetters(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var f warehouse.DeadLetterFilter
	if err := json.Unmarshal(raw, &f); err != nil {
		return err
	}
	letters, err := e.store.DeadLetters(ctx, f)
	if err != nil {
		return err
	}
	if letters == nil {
		letters = []warehouse.StoredDeadLetter{}
	}
	return json.NewEncoder(e.out).Encode(letters)
}

func newDeadLettersCmd(a *app) *cobra.Command {
	var reason, source, since string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "dead-letters",
		Short: "List refused input with its reason, detail and every origin it was seen at",
		Long: `List the dead letters, oldest first: input refused once per content (the same
raw bytes for the same reason), with the reason, a detail for people, the
event's id and source when they could be read, and every origin it was seen
at (file:PATH:LINE, stdin:-:LINE, kafka:TOPIC:PARTITION/OFFSET).

--since takes a day (2025-03-01, Asia/Shanghai), an RFC 3339 time, or a
duration back from now (24h). When more letters match than --limit, a note
on stderr says so. --json prints them as a JSON array, raw bytes included.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := warehouse.DeadLetterFilter{Reason: model.DeadLetterReason(reason), Source: source}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				f.Since = t
			}
			if limit > 0 {
				f.Limit = limit + 1 // one more tells whether there are more
			}
			if err := f.Validate(); err != nil {
				return fmt.Errorf("dead-letters: %w", err)
			}
			var out bytes.Buffer
			if err := a.runOp(cmd, warehouse.OpenModeExisting, "dead-letters", f, nil, &out); err != nil {
				return err
			}
			var letters []warehouse.StoredDeadLetter
			if err := json.Unmarshal(out.Bytes(), &letters); err != nil {
				return fmt.Errorf("dead-letters: %w", err)
			}
			if limit > 0 && len(letters) > limit {
				letters = letters[:limit]
				fmt.Fprintf(cmd.ErrOrStderr(), "more than %d dead letters match: narrow with --reason, --source or --since, or raise --limit (0: all)\n", limit)
			}
			inShanghai(letters)
			if asJSON {
				return printJSON(cmd, letters)
			}
			return printDeadLetters(cmd, letters)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&reason, "reason", "", "only this reason: "+reasonNames())
	fl.StringVar(&source, "source", "", "only dead letters whose event names this source (a GB/T 2260 code, e.g. 320830)")
	fl.StringVar(&since, "since", "", "only those first seen at or after this day, time or duration ago")
	fl.IntVar(&limit, "limit", 1000, "at most this many (0: all)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func reasonNames() string {
	var names []string
	for _, r := range model.DeadLetterReasons() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// parseSince reads a day (midnight in Asia/Shanghai), an RFC 3339 time, or
// a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, model.Shanghai); err == nil {
		return t, nil
	}
	if t, err := model.ParseTimestamp(s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("dead-letters: --since %q: want a day (2025-03-01), an RFC 3339 time (2025-03-01T09:30:00+08:00) or a duration (24h)", s)
}

// inShanghai shows times as the bureau reads them, +08:00.
func inShanghai(letters []warehouse.StoredDeadLetter) {
	for i := range letters {
		letters[i].Received = letters[i].Received.In(model.Shanghai)
		for j := range letters[i].Origins {
			letters[i].Origins[j].Received = letters[i].Origins[j].Received.In(model.Shanghai)
		}
	}
}

func printDeadLetters(cmd *cobra.Command, letters []warehouse.StoredDeadLetter) error {
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "RECEIVED (Asia/Shanghai)\tREASON\tSOURCE\tEVENT ID\tDETAIL\tORIGINS")
	for _, dl := range letters {
		origins := make([]string, len(dl.Origins))
		for i, o := range dl.Origins {
			origins[i] = o.Origin.String()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", dl.Received.Format(time.DateTime), dl.Reason,
			orDash(dl.Source), orDash(dl.EventID), oneLine(dl.Detail), strings.Join(origins, ", "))
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a detail on its row: it quotes input, which may hold tabs and newlines.
func oneLine(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}
