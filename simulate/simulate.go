// Package simulate generates realistic synthetic supervision data for Huai'an:
// valid USCCs issued in its county-level regions, enterprises, and their
// events over several years, deterministic per seed.
package simulate

import (
	"time"

	"github.com/qcredit/qcredit/model"
)

// Config says what to generate.
type Config struct {
	Enterprises int
	Years       int
	Seed        int64
	End         time.Time // last day of the simulated period
	BadRate     float64   // share of malformed lines and reused ids mixed in
}

// Truth is the planted ground truth the pipelines must find.
type Truth struct {
	BadEnterprises []model.USCC `json:"bad_enterprises"`
	RisingClusters []string     `json:"rising_clusters"`
}

// Generate writes one JSON line per event to emit, in occurred_at order.
func Generate(cfg Config, emit func(line []byte) error) (Truth, error) {
	return Truth{}, nil
}
