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
	// the live bureaus, occurring now, that is not in the simulated file.
	dir := t.TempDir()
	logPath := filepath.Join(dir, "dev.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	dev := exec.Command(testenv.Binary(t), "dev", "--enterprises", "300", "--years", "1", "--listen", "127.0.0.1:0")
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
	addr := ""
	deadline := time.Now().Add(2 * time.Minute)
	for addr == "" {
		b, _ := os.ReadFile(logPath)
		if m := regexp.MustCompile(`health:  http://(\S+)/healthz`).FindSubmatch(b); m != nil {
			addr = string(m[1])
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
	getJSONAt(t, "http://"+addr+"/api/v1/scores?limit=1000", &page)
	if len(page.Items) == 0 {
		t.Fatal("no scored enterprises")
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
			getJSONAt(t, "http://"+addr+"/api/v1/enterprises/"+it.USCC, &file)
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

func getJSONAt(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
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
