package serving

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcredit/qcredit/model"
)

type storeMetrics struct {
	bytes       prometheus.Gauge
	enterprises prometheus.Gauge
	loads       prometheus.Counter
	failures    prometheus.Counter
	loadedAt    prometheus.Gauge
}

func newStoreMetrics(reg prometheus.Registerer) (storeMetrics, error) {
	m := storeMetrics{
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qcredit_serving_model_bytes",
			Help: "Memory of the read model's current version."}),
		enterprises: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qcredit_serving_enterprises",
			Help: "Enterprises in the read model."}),
		loads: prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_serving_loads_total",
			Help: "Versions of the read model made current."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_serving_refresh_failures_total",
			Help: "Refreshes that failed; the loaded version kept answering."}),
		loadedAt: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qcredit_serving_loaded_timestamp_seconds",
			Help: "Unix time the current version was made."}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.bytes, m.enterprises, m.loads, m.failures, m.loadedAt} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, fmt.Errorf("register serving metrics: %w", err))
		}
	}
	return m, errors.Join(errs...)
}

func (m storeMetrics) loaded(mod *Model) {
	if m.bytes == nil {
		return
	}
	m.bytes.Set(float64(mod.Bytes()))
	m.enterprises.Set(float64(mod.Enterprises()))
	m.loads.Inc()
	m.loadedAt.Set(float64(mod.Loaded.Unix()))
}

func (m storeMetrics) failed() {
	if m.failures != nil {
		m.failures.Inc()
	}
}

// toEnterprise turns a read-model firm back into an enterprise (to rebuild
// an overlay).
func toEnterprise(f Firm) model.Enterprise {
	e := model.Enterprise{USCC: model.USCC(strings.Clone(string(f.USCC))), Name: strings.Clone(f.Name),
		Region: f.Region, Industry: strings.Clone(f.Industry), Cluster: strings.Clone(f.Cluster),
		Scale: f.Scale, Deregistered: f.Deregistered}
	e.RegisteredAt = unix(f.RegisteredAt)
	e.UpdatedAt = unix(f.UpdatedAt)
	return e
}

// sortedUnique orders enterprises by USCC, keeping the first of each.
func sortedUnique(es []model.Enterprise) []model.Enterprise {
	slices.SortStableFunc(es, func(a, b model.Enterprise) int { return strings.Compare(string(a.USCC), string(b.USCC)) })
	return slices.CompactFunc(es, func(a, b model.Enterprise) bool { return a.USCC == b.USCC })
}
