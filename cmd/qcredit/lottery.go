package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// planningJobs are the supervision-planning jobs.
func (a *app) planningJobs(s backend) ([]pipelines.Job, error) {
	rules, err := planning.DefaultPlanRules()
	if err != nil {
		return nil, err
	}
	return []pipelines.Job{
		pipelines.NewPlanJob(s, rules, a.log),
		pipelines.NewKPIJob(s, pipelines.DefaultKPIConfig(), a.log),
		pipelines.NewRecheckJob(s, pipelines.DefaultRecheckJobConfig(), a.log),
		pipelines.NewLotteryJob(s, a.log),
	}, nil
}

// planningParts are the planning jobs' parts of the read model: each held
// whole (the published draws and the KPIs are read often, the plan and the
// re-check frame are small).
func planningParts() []serving.PartLoader {
	return []serving.PartLoader{serving.OutputsLoader(pipelines.JobLottery), serving.OutputsLoader(pipelines.JobKPI),
		serving.OutputsLoader(pipelines.JobPlan), serving.OutputsLoader(pipelines.JobRecheck)}
}

// devPlanning gives a fresh dev city a demonstration inspector pool (two
// per county, marked 演示) and a drawn demonstration draw, so the public draw
// pages and the dashboards have one to show (the planning jobs themselves
// run with devHistory).
func (a *app) devPlanning(ctx context.Context, s backend, reg prometheus.Registerer) error {
	r, err := a.newRunner(s, reg)
	if err != nil {
		return err
	}
	l := pipelines.NewLottery(s, r, a.log, pipelines.LotteryOptions{})
	inspectors, err := l.Registry().Inspectors(ctx)
	if err != nil || len(inspectors) > 0 {
		return err
	}
	for i, county := range model.CurrentHuaianBureaus() {
		for j := range 2 {
			e := pipelines.InspectorEntry{ID: fmt.Sprintf("DEMO-%s-%d", county, j+1), Name: fmt.Sprintf("演示检查员%d", 2*i+j+1), County: county, By: "dev"}
			if _, err := l.Registry().PutInspector(ctx, e); err != nil {
				return err
			}
		}
	}
	today := pipelines.Today(time.Now()).Date
	end := today.AddDate(0, 3, -1)
	c, err := l.CreateDraw(ctx, pipelines.CreateDrawRequest{Name: "演示：全市双随机抽查（开发环境）", PeriodFrom: today.Format(time.DateOnly),
		PeriodTo: end.Format(time.DateOnly), BeaconSource: "演示用信标（开发环境，非公开数值）", By: "dev"})
	if err != nil {
		return err
	}
	_, err = l.Draw(ctx, c.ID, "demo-"+today.Format("20060102"), "dev")
	return err
}

func newLotteryCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lottery",
		Short: "Make verifiable random draws (摇号, 双随机) in two steps, and verify published ones",
		Long: `A draw is made in two steps that anyone can check afterwards (README, The random
inspection draw). create fixes the pool of firms (with their current grades), the
inspector pool and the rules, keeps a random seed secret and publishes its
commitment; it prints the draw's id. Once the named beacon value is public
(a notary's numbers, an index's close), draw reveals the seed, mixes in the
beacon and draws. Both work while qcredit serve runs (through its admin socket
with DuckDB). verify recomputes a published draw from its documents alone.`,
	}
	cmd.AddCommand(newLotteryCreateCmd(a), newLotteryCreateRecheckCmd(a), newLotteryCreateAssignmentCmd(a),
		newLotteryDrawCmd(a), newLotteryVerifyCmd(a))
	return cmd
}

// lottery is the draws of an op's store and runner.
func (e *opEnv) lottery() *pipelines.Lottery {
	return pipelines.NewLottery(e.store, e.runner, e.app.log, pipelines.LotteryOptions{})
}

func newLotteryCreateCmd(a *app) *cobra.Command {
	var r pipelines.CreateDrawRequest
	cmd := &cobra.Command{
		Use:   "create --name N --period-from D --period-to D --beacon-source TEXT [--region R] [--industry I] [--licence KIND]",
		Short: "Create an inspection draw and print its id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r.By = "cli"
			return a.runOp(cmd, warehouse.OpenModeExisting, "lottery.create", r, nil, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.ID, "id", "", "the draw's id, [a-z0-9-] (default draw-<period start>-<random>)")
	f.StringVar(&r.Name, "name", "", "the draw's name, as published")
	f.StringVar(&r.PeriodFrom, "period-from", "", "first day of the period the draw covers, YYYY-MM-DD")
	f.StringVar(&r.PeriodTo, "period-to", "", "last day of the period, YYYY-MM-DD (the yearly rates are pro-rated to it)")
	f.StringVar(&r.BeaconSource, "beacon-source", "", "the public value, fixed after now and out of the bureau's hands, that the draw will mix in")
	f.StringVar(&r.Region, "region", "", "only firms of this GB/T 2260 region (320800: the whole city; a county code)")
	f.StringVar(&r.Industry, "industry", "", "only firms of this GB/T 4754 industry (C, C33, C3311)")
	f.StringVar(&r.Licence, "licence", "", "only firms holding a licence of this kind today (industrial_product, special_equipment, metrology, other)")
	f.BoolVar(&r.AllowOwnCounty, "allow-own-county", false, "let inspectors inspect firms of their own county")
	return cmd
}

func (a *app) opLotteryCreate(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var r pipelines.CreateDrawRequest
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	r.By = "cli"
	return printCreated(e, e.lottery().CreateDraw)(ctx, r)
}

// printCreated runs a create step and prints the new draw's id alone.
func printCreated[R any](e *opEnv, create func(context.Context, R) (pipelines.CreatedDraw, error)) func(context.Context, R) error {
	return func(ctx context.Context, r R) error {
		c, err := create(ctx, r)
		if err != nil {
			return err
		}
		if !c.Published {
			e.app.log.Warn("draw recorded but not yet published: run `qcredit pipeline run lottery`", "draw", c.ID)
		}
		_, err = fmt.Fprintln(e.out, c.ID)
		return err
	}
}

func newLotteryCreateRecheckCmd(a *app) *cobra.Command {
	var r pipelines.CreateRecheckRequest
	cmd := &cobra.Command{
		Use:   "create-recheck --name N --beacon-source TEXT",
		Short: "Create the re-check draw of the recheck job's current frame (10 % of last year's newly licensed firms) and print its id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runOp(cmd, warehouse.OpenModeExisting, "lottery.create-recheck", r, nil, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.ID, "id", "", "the draw's id, [a-z0-9-] (default recheck-<year>-<random>)")
	f.StringVar(&r.Name, "name", "", "the re-check's name, as published")
	f.StringVar(&r.BeaconSource, "beacon-source", "", "the public value the draw will mix in")
	return cmd
}

func (a *app) opLotteryCreateRecheck(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var r pipelines.CreateRecheckRequest
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	r.By = "cli"
	return printCreated(e, e.lottery().CreateRecheck)(ctx, r)
}

func newLotteryCreateAssignmentCmd(a *app) *cobra.Command {
	var r pipelines.CreateAssignmentRequest
	cmd := &cobra.Command{
		Use:   "create-assignment --name N --beacon-source TEXT [--outside-city]",
		Short: "Create the assignment of the current plan's batches among the testing agencies and print its id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runOp(cmd, warehouse.OpenModeExisting, "lottery.create-assignment", r, nil, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.ID, "id", "", "the draw's id, [a-z0-9-] (default assign-<year>-<random>)")
	f.StringVar(&r.Name, "name", "", "the assignment's name, as published")
	f.StringVar(&r.BeaconSource, "beacon-source", "", "the public value the draw will mix in")
	f.BoolVar(&r.OutsideCity, "outside-city", false, "let agencies outside the city compete too")
	return cmd
}

func (a *app) opLotteryCreateAssignment(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var r pipelines.CreateAssignmentRequest
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	r.By = "cli"
	return printCreated(e, e.lottery().CreateAssignment)(ctx, r)
}

// lotteryDrawArgs is the request of `lottery draw`.
type lotteryDrawArgs struct {
	ID     string `json:"id"`
	Beacon string `json:"beacon"`
}

func newLotteryDrawCmd(a *app) *cobra.Command {
	var beacon string
	cmd := &cobra.Command{
		Use:   "draw ID [--beacon TEXT]",
		Short: "Reveal a draw's seed with the beacon's published value and draw; print the published document",
		Long: `Without --beacon the value is read from stdin (say, echo 3268.15 | qcredit lottery
draw ID). It is used as published: Unicode NFC, surrounding spaces removed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("beacon") {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4096))
				if err != nil {
					return fmt.Errorf("read the beacon from stdin: %w", err)
				}
				beacon = string(b)
			}
			return a.runOp(cmd, warehouse.OpenModeExisting, "lottery.draw", lotteryDrawArgs{ID: args[0], Beacon: beacon}, nil, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&beacon, "beacon", "", "the beacon source's value as it was published")
	return cmd
}

func (a *app) opLotteryDraw(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var r lotteryDrawArgs
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	res, err := e.lottery().Draw(ctx, r.ID, r.Beacon, "cli")
	if err != nil {
		return err
	}
	if !res.Published {
		e.app.log.Warn("draw recorded but not yet published: run `qcredit pipeline run lottery`", "draw", res.ID)
	}
	_, err = fmt.Fprintf(e.out, "%s\n", res.Document)
	return err
}

func newLotteryVerifyCmd(a *app) *cobra.Command {
	var server, committed string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify DRAW_ID|URL|PATH",
		Short: "Recompute a published draw from its published inputs alone; exit 1 naming the check that failed",
		Long: `The draw is read from a running server's public routes — a URL such as
http://HOST:8080/api/v1/public/draws/ID, or an id with --server — or from files:
a directory holding the document (draw.json, or ID.json) and its CSV files
(pool.csv and inspectors.csv; batches.csv and agencies.csv for an assignment),
or the document's path with the files beside it. Every check is printed;
exit status 0 when the draw verifies, 1 when a check fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, files, err := readPublished(cmd.Context(), args[0], server)
			if err != nil {
				return err
			}
			var first []byte
			if committed != "" {
				if first, err = os.ReadFile(committed); err != nil {
					return err
				}
			}
			return printVerification(cmd, doc, files, first, asJSON)
		},
	}
	cmd.Flags().StringVar(&server, "server", "http://127.0.0.1:8080", "the server whose public routes publish a draw given by id")
	cmd.Flags().StringVar(&committed, "committed", "", "the document as published at creation (a copy kept then): what it fixed must not have changed")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the checks as JSON")
	return cmd
}

// printVerification verifies and prints every check; a failure is exit 1.
func printVerification(cmd *cobra.Command, doc []byte, files map[string][]byte, committed []byte, asJSON bool) error {
	out := cmd.OutOrStdout()
	kind, v, err := pipelines.VerifyPublished(doc, files, committed)
	if err != nil {
		v = planning.Verification{Checks: []planning.Check{{Name: planning.CheckDocument, Detail: err.Error()}}}
	}
	if asJSON {
		if err := writeJSON(out, map[string]any{"kind": kind, "ok": v.OK(), "checks": v.Checks}); err != nil {
			return err
		}
	} else {
		for _, c := range v.Checks {
			mark := "ok  "
			if !c.OK {
				mark = "FAIL"
			}
			subject := ""
			if c.Subject != "" {
				subject = " " + c.Subject
			}
			fmt.Fprintf(out, "%s %s%s: %s\n", mark, c.Name, subject, c.Detail)
		}
	}
	if !v.OK() {
		var names []string
		for _, c := range v.Failed() {
			names = append(names, string(c.Name))
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "the draw does not verify: %s failed\n", strings.Join(names, ", "))
		return exitError{code: 1}
	}
	if !asJSON {
		fmt.Fprintf(out, "verified: the %s draw recomputes from its published inputs\n", kind)
	}
	return nil
}

// readPublished reads a draw's document and files from a URL, from a
// server by id, or from a path.
func readPublished(ctx context.Context, arg, server string) ([]byte, map[string][]byte, error) {
	switch {
	case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
		return fetchPublished(ctx, strings.TrimSuffix(arg, "/"))
	case planning.ValidateDrawID(arg) == nil && !fileExists(arg):
		base, err := url.JoinPath(server, "/api/v1/public/draws", arg)
		if err != nil {
			return nil, nil, fmt.Errorf("--server %q: %w", server, err)
		}
		return fetchPublished(ctx, base)
	}
	return readPublishedFiles(arg)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// fetchPublished reads the document at docURL and its files beside it
// (docURL/pool.csv, …).
func fetchPublished(ctx context.Context, docURL string) ([]byte, map[string][]byte, error) {
	client := &http.Client{Timeout: time.Minute}
	get := func(u string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", u, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(b)))
		}
		return b, nil
	}
	doc, err := get(docURL)
	if err != nil {
		return nil, nil, err
	}
	kind, err := pipelines.KindOf(doc)
	if err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	for _, name := range kind.Files() {
		if files[name], err = get(docURL + "/" + name); err != nil {
			return nil, nil, err
		}
	}
	return doc, files, nil
}

// readPublishedFiles reads a document and the files beside it: path is the
// document, or a directory holding draw.json or a single *.json.
func readPublishedFiles(path string) ([]byte, map[string][]byte, error) {
	docPath := path
	if st, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("%s: not a draw id of the server, a URL or a file: %w", path, err)
	} else if st.IsDir() {
		docPath = filepath.Join(path, "draw.json")
		if !fileExists(docPath) {
			matches, _ := filepath.Glob(filepath.Join(path, "*.json"))
			if len(matches) != 1 {
				return nil, nil, fmt.Errorf("%s: want draw.json or exactly one .json document in it, found %d", path, len(matches))
			}
			docPath = matches[0]
		}
	}
	doc, err := os.ReadFile(docPath)
	if err != nil {
		return nil, nil, err
	}
	kind, err := pipelines.KindOf(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", docPath, err)
	}
	files := map[string][]byte{}
	for _, name := range kind.Files() {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(docPath), name))
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: the %s draw's %s is not beside it", docPath, kind, name)
		}
		if err != nil {
			return nil, nil, err
		}
		files[name] = b
	}
	return doc, files, nil
}
