package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/model"
)

func TestDevCityIsAlive(t *testing.T) {
	// Given `qcredit dev` on a small simulated city, when it has run for a
	// while, then some enterprise's credit file holds a record reported by
	// the live bureaus, occurring now, that is not in the simulated file; and
	// the lists were published at start (dev lists right after scoring).
	dir := t.TempDir()
	logPath := filepath.Join(dir, "dev.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	dev := exec.Command(testenv.Binary(t), "dev", "--enterprises", "300", "--years", "1", "--listen", "127.0.0.1:0", "--broker", "127.0.0.1:0")
	dev.Dir = dir
	dev.Env = append(os.Environ(), "QCREDIT_WAREHOUSE=duckdb://data/qcredit.duckdb")
	dev.Stdout, dev.Stderr = logFile, logFile
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dev.Process.Signal(os.Interrupt)
		dev.Wait()
	})
	addr, key := "", ""
	deadline := time.Now().Add(2 * time.Minute)
	for addr == "" {
		b, _ := os.ReadFile(logPath)
		m := regexp.MustCompile(`health:  http://(\S+)/healthz`).FindSubmatch(b)
		k := regexp.MustCompile(`analyst key [^:]*: (qck_\S+)`).FindSubmatch(b)
		if m != nil && k != nil {
			addr, key = string(m[1]), string(k[1])
		} else if time.Now().After(deadline) {
			t.Fatalf("dev did not start:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond) // polling the log for a condition, with a deadline
	}
	simulated, err := os.ReadFile(filepath.Join(dir, "data", "simulated.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []struct{ USCC string } `json:"items"`
	}
	getJSONAt(t, "http://"+addr+"/api/v1/scores?limit=1000", key, &page)
	if len(page.Items) == 0 {
		t.Fatal("no scored enterprises")
	}
	var dishonest struct{ Version int64 }
	getJSONAt(t, "http://"+addr+"/api/v1/public/lists/dishonest", "", &dishonest)
	if dishonest.Version < 1 {
		t.Errorf("no version of the dishonest list published: %+v", dishonest)
	}
	deadline = time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		for _, it := range page.Items {
			var file struct {
				Records []struct {
					ID         string    `json:"id"`
					OccurredAt time.Time `json:"occurred_at"`
				} `json:"records"`
			}
			getJSONAt(t, "http://"+addr+"/api/v1/enterprises/"+it.USCC, key, &file)
			for _, r := range file.Records {
				if !strings.Contains(r.ID, "-live-") {
					continue
				}
				if strings.Contains(string(simulated), `"`+r.ID+`"`) {
					t.Fatalf("live record %s is in the simulated file", r.ID)
				}
				if age := time.Since(r.OccurredAt); age < 0 || age > 10*time.Minute {
					t.Errorf("live record %s occurred %v ago, want now", r.ID, age)
				}
				t.Logf("%s's credit file has the live record %s (occurred %s)", it.USCC, r.ID, r.OccurredAt.In(model.Shanghai))
				return
			}
		}
		time.Sleep(time.Second) // polling for a condition, with a deadline
	}
	b, _ := os.ReadFile(logPath)
	t.Fatalf("no live record in any credit file within 2 minutes\n%s", b)
}

// getJSONAt gets url with the key ("" sends none) and decodes the JSON.
func getJSONAt(t *testing.T, url, key string, into any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatal(fmt.Errorf("GET %s: %w", url, err))
	}
}
