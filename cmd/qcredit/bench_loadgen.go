package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
)

// The HTTP benchmarks measure the server, so the load comes from another
// process (`qcredit bench loadgen`, started by the benchmark): the server's
// goroutines and garbage collector do not share a heap with the client's,
// only the machine's cores, as with a real client on the same host.

// loadPlan is what the load generator is asked to do.
type loadPlan struct {
	Method  string            `json:"method"`
	Base    string            `json:"base"`    // http://host:port
	Targets string            `json:"targets"` // a file: one path (GET) or one body (POST to Path) per line
	Path    string            `json:"path,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Clients int               `json:"clients"`
	// Duration repeats the targets for this long (GET); zero sends each
	// target once (POST bodies).
	Duration time.Duration `json:"duration"`
}

// loadResult is what it measured.
type loadResult struct {
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"` // transport errors and non-2xx answers
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// FirstError is an example of what failed.
	FirstError string `json:"first_error,omitempty"`
}

func newBenchLoadgenCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "loadgen PLAN.json",
		Short:  "The HTTP benchmarks' load generator (started by them in its own process)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var p loadPlan
			if err := json.Unmarshal(b, &p); err != nil {
				return err
			}
			res, err := generateLoad(cmd.Context(), p)
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
		},
	}
}

func generateLoad(ctx context.Context, p loadPlan) (loadResult, error) {
	targets, err := readLines(p.Targets)
	if err != nil {
		return loadResult{}, err
	}
	if len(targets) == 0 || p.Clients < 1 {
		return loadResult{}, fmt.Errorf("loadgen: no targets or clients")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: p.Clients, MaxConnsPerHost: p.Clients,
		DisableCompression: true}, Timeout: 2 * time.Minute}
	var next atomic.Int64
	var mu sync.Mutex
	var res loadResult
	lat := make([][]time.Duration, p.Clients)
	deadline := time.Time{}
	start := time.Now()
	if p.Duration > 0 {
		deadline = start.Add(p.Duration)
	}
	var wg sync.WaitGroup
	for w := range p.Clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if deadline.IsZero() && i >= len(targets) || !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				err := send(ctx, client, p, targets[i%len(targets)])
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					mu.Lock()
					if res.Errors++; res.FirstError == "" {
						res.FirstError = err.Error()
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.Requests, res.Seconds = len(all), el.Seconds()
	res.PerSecond = float64(len(all)) / el.Seconds()
	if len(all) > 0 {
		ms := func(q float64) float64 { return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / 1e6 }
		res.P50Ms, res.P99Ms, res.MaxMs = ms(0.50), ms(0.99), float64(all[len(all)-1])/1e6
	}
	return res, nil
}

func send(ctx context.Context, c *http.Client, p loadPlan, target []byte) error {
	url, body := p.Base+string(target), io.Reader(nil)
	if p.Method == http.MethodPost {
		url, body = p.Base+p.Path, bytes.NewReader(target)
	}
	req, err := http.NewRequestWithContext(ctx, p.Method, url, body)
	if err != nil {
		return err
	}
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", p.Method, url, resp.Status)
	}
	return nil
}

func readLines(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	return out, sc.Err()
}

// runLoadgen runs the plan in a new process of this binary and returns what
// it measured.
func runLoadgen(ctx context.Context, dir string, p loadPlan) (loadResult, error) {
	f, err := os.CreateTemp(dir, "plan-*.json")
	if err != nil {
		return loadResult{}, err
	}
	defer os.Remove(f.Name())
	if err := json.NewEncoder(f).Encode(p); err != nil {
		f.Close()
		return loadResult{}, err
	}
	f.Close()
	self, err := os.Executable()
	if err != nil {
		return loadResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "bench", "loadgen", f.Name())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, fmt.Errorf("loadgen: %w", err)
	}
	var res loadResult
	if err := json.Unmarshal(out, &res); err != nil {
		return loadResult{}, fmt.Errorf("loadgen: %w: %s", err, out)
	}
	return res, nil
}
