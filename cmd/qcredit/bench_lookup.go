package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/model"
)

// lookupBenchInput is what one `qcredit bench lookup` run does.
type lookupBenchInput struct {
	City        benchCity
	Dir         string
	Binary      string // the qcredit binary run as `serve` and as the bare server
	Connections int
	Duration    time.Duration
	Warmup      time.Duration
	Rounds      int
}

// lookupBench is what it prints.
type lookupBench struct {
	City        benchCity `json:"city"`
	Enterprises int       `json:"enterprises"`
	CPUs        int       `json:"cpus"`
	// ServeRSSBytes is serve's resident memory once its read model is
	// loaded, before any request; ModelBytes the read model's own share.
	ServeRSSBytes int64 `json:"serve_rss_bytes"`
	ModelBytes    int64 `json:"model_bytes"`
	BodyBytes     int   `json:"body_bytes"`
	// Rounds alternate serve and bare; Serve and Bare are the rounds' medians
	// by rate, Ratio is Serve's rate over Bare's.
	Rounds  [][2]wrkResult `json:"rounds"`
	Serve   wrkResult      `json:"serve"`
	Bare    wrkResult      `json:"bare"`
	Ratio   float64        `json:"ratio"`
	Targets string         `json:"targets"`
}

const publicLookupPath = "/api/v1/public/enterprises/"

func newBenchLookupCmd(a *app) *cobra.Command {
	in := lookupBenchInput{}
	cmd := &cobra.Command{
		Use:   "lookup",
		Short: "Drive public lookups against qcredit serve on the scored bench city, and against a bare gin handler",
		Long: `Loads the bench city (1,000,000 enterprises; reused from --dir) and scores it
unless it is scored, then starts ` + "`qcredit serve`" + ` on it as a child process and
reads its resident memory once the read model is loaded, before any request.
Then wrk (Debian's, in its own process) drives GET /api/v1/public/enterprises/{uscc}
of USCCs drawn uniformly from the loaded ones over --connections, against
serve and against a bare gin handler returning a constant body of the same
size (also a child process), in alternating rounds after a warm-up of each.
Prints requests/s, p50 and p99 of both (the medians of the rounds) and the
ratio as JSON. Targets on a 2-core machine: >= 30,000 requests/s, p99 <= 5 ms,
>= 0.8 of the bare handler's rate, serve's RSS <= 1.5 GB.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				in.Binary = exe
			}
			if in.Connections < 1 || in.Rounds < 1 || in.Duration < time.Second {
				return fmt.Errorf("need at least 1 connection, 1 round and a duration of 1s or more")
			}
			res, err := a.benchLookup(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printJSON(cmd, res)
		},
	}
	benchCityFlags(cmd, &in.City)
	cmd.Flags().StringVar(&in.Dir, "dir", "", "directory for the bench city's warehouse, kept for the next benchmark (default: a temporary one, removed after)")
	cmd.Flags().StringVar(&in.Binary, "binary", "", "qcredit binary to run as serve and as the bare server (default: this one)")
	cmd.Flags().IntVar(&in.Connections, "connections", 32, "concurrent connections")
	cmd.Flags().DurationVar(&in.Duration, "duration", 10*time.Second, "length of each measured round")
	cmd.Flags().DurationVar(&in.Warmup, "warmup", 2*time.Second, "unmeasured load on each server before the rounds (0: none)")
	cmd.Flags().IntVar(&in.Rounds, "rounds", 3, "measured rounds of each server, alternating")
	return cmd
}

func (a *app) benchLookup(ctx context.Context, in lookupBenchInput) (lookupBench, error) {
	res := lookupBench{City: in.City, CPUs: runtime.NumCPU(),
		Targets: "serve >= 30000 requests/s, p99 <= 5 ms, ratio >= 0.8, RSS <= 1.5 GB"}
	if _, err := wrkPath(); err != nil {
		return res, err
	}
	dir, cleanup, err := benchDir(in.Dir, "qcredit-bench-lookup-")
	if err != nil {
		return res, err
	}
	defer cleanup()
	work, err := os.MkdirTemp(dir, "lookup-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(work)
	keys, err := a.scoredCityKeys(ctx, dir, in.City)
	if err != nil {
		return res, err
	}
	res.Enterprises = len(keys)
	keysFile := filepath.Join(work, "usccs.txt")
	if err := writeKeys(keysFile, keys); err != nil {
		return res, err
	}

	warehousePath, err := filepath.Abs(filepath.Join(dir, benchWarehouseFile))
	if err != nil {
		return res, err
	}
	serve, err := serveChild(ctx, work, in.Binary, "duckdb://"+warehousePath)
	if err != nil {
		return res, err
	}
	defer serve.stop()
	if res.ServeRSSBytes, err = serve.rssBytes(); err != nil {
		return res, err
	}
	sample, err := fetch(ctx, "http://"+serve.addr+publicLookupPath+string(keys[0]))
	if err != nil {
		return res, err
	}
	res.BodyBytes = len(sample)
	bodyFile := filepath.Join(work, "body.json")
	if err := os.WriteFile(bodyFile, sample, 0o644); err != nil {
		return res, err
	}
	bareAddr, err := freeAddr()
	if err != nil {
		return res, err
	}
	bare, err := startChild(ctx, work, "bare", bareAddr, in.Binary, nil, "bench", "bare-server", "--listen", bareAddr, "--body", bodyFile)
	if err != nil {
		return res, err
	}
	defer bare.stop()
	if err := bare.waitReady(ctx, publicLookupPath+string(keys[0]), time.Minute); err != nil {
		return res, err
	}

	spec := func(target, addr string, d time.Duration, seed int) loadSpec {
		return loadSpec{Target: target, Addr: addr, Prefix: publicLookupPath, KeysFile: keysFile,
			Conns: in.Connections, Threads: 2, Duration: d, Seed: seed}
	}
	if in.Warmup > 0 {
		for _, c := range []*child{serve, bare} {
			if _, err := runWrk(ctx, work, spec(c.name, c.addr, in.Warmup, 0)); err != nil {
				return res, err
			}
		}
	}
	for round := range in.Rounds {
		var pair [2]wrkResult
		for i, c := range []*child{serve, bare} {
			r, err := runWrk(ctx, work, spec(c.name, c.addr, in.Duration, round+1))
			if err != nil {
				return res, err
			}
			a.log.Info("lookup round", "round", round+1, "target", c.name, "requests_per_sec", int(r.PerSecond),
				"p50_ms", r.P50ms, "p99_ms", r.P99ms, "errors", r.Errors)
			pair[i] = r
		}
		res.Rounds = append(res.Rounds, pair)
	}
	res.Serve, res.Bare = medianRound(res.Rounds, 0), medianRound(res.Rounds, 1)
	res.Ratio = res.Serve.PerSecond / res.Bare.PerSecond
	if m, err := metricValue(ctx, serve.addr, "qcredit_serving_model_bytes"); err == nil {
		res.ModelBytes = int64(m)
	}
	return res, nil
}

// scoredCityKeys opens (or loads) the bench city in dir, scores it unless
// it is scored, and returns its enterprises' USCCs; the warehouse is
// closed again for serve to open.
func (a *app) scoredCityKeys(ctx context.Context, dir string, city benchCity) ([]model.USCC, error) {
	s, _, _, err := a.openBenchCity(ctx, dir, city)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if _, err := a.ensureScored(ctx, s); err != nil {
		return nil, err
	}
	keys := make([]model.USCC, 0, city.Enterprises)
	err = s.Enterprises(ctx, func(e model.Enterprise) error {
		keys = append(keys, e.USCC)
		return nil
	})
	if err == nil && len(keys) == 0 {
		err = fmt.Errorf("the bench city in %s has no enterprises", dir)
	}
	return keys, err
}

// medianRound is the round of target i (0 serve, 1 bare) with the median rate.
func medianRound(rounds [][2]wrkResult, i int) wrkResult {
	rs := make([]wrkResult, len(rounds))
	for k, r := range rounds {
		rs[k] = r[i]
	}
	slices.SortFunc(rs, func(x, y wrkResult) int {
		switch {
		case x.PerSecond < y.PerSecond:
			return -1
		case x.PerSecond > y.PerSecond:
			return 1
		}
		return 0
	})
	return rs[(len(rs)-1)/2]
}

// newBenchBareServerCmd is the baseline of bench lookup: gin answering the
// public lookup's route with a constant body, nothing else.
func newBenchBareServerCmd() *cobra.Command {
	var listen, bodyFile string
	cmd := &cobra.Command{
		Use:    "bare-server",
		Short:  "Serve the public lookup's route with a constant body (the baseline of bench lookup)",
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := os.ReadFile(bodyFile)
			if err != nil {
				return err
			}
			gin.SetMode(gin.ReleaseMode)
			r := gin.New()
			r.GET(publicLookupPath+":uscc", func(c *gin.Context) {
				c.Data(http.StatusOK, "application/json; charset=utf-8", body)
			})
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-cmd.Context().Done()
				srv.Close()
			}()
			if err := srv.Serve(ln); err != http.ErrServerClosed {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8090", "address to listen on")
	cmd.Flags().StringVar(&bodyFile, "body", "", "file holding the body to answer with")
	return cmd
}
