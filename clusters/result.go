package clusters

import (
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Result is one run's assessment of every cluster.
type Result struct {
	AsOf string `json:"as_of"`
	// Version is the method's version (Config.Version).
	Version string `json:"version"`
	Window  Window `json:"window"`
	// Phi is the overdispersion φ estimated over PhiClusters clusters (those
	// meeting the minimum sample); 1 when there were none.
	Phi         float64 `json:"phi"`
	PhiClusters int     `json:"phi_clusters"`
	// Clusters are in ascending key order.
	Clusters []Assessment `json:"clusters"`
	// Unmatched counts window records whose USCC is not among the
	// enterprises (deregistered by the cutoff, or never registered).
	Unmatched int64 `json:"unmatched"`
}

// Assessment is one cluster's state in a run: its level, the signals and
// numbers behind it, its indicators and the reasons.
type Assessment struct {
	Cluster string `json:"cluster"`
	// Division is the GB/T 4754 division of most of its enterprises (ties:
	// the smallest code); County likewise the county.
	Division string           `json:"division"`
	County   string           `json:"county"`
	Status   AssessmentStatus `json:"status"`
	Level    Level            `json:"level"`
	Signals  []Signal         `json:"signals"`
	Evidence Evidence         `json:"evidence"`
	// Indicators are shown with the warning; they do not decide the level.
	Indicators Indicators     `json:"indicators"`
	Reasons    []model.Reason `json:"reasons"`
}

// Evidence is the statistics of one cluster (DOMAIN.md): anyone holding the
// same records can recompute every number.
type Evidence struct {
	Checks      int64   `json:"n"`
	Failures    int64   `json:"x"`
	Enterprises int64   `json:"m"`
	Rate        float64 `json:"rate"`
	// RateLow and RateHigh are the Wilson 95 % interval of Rate, for readers.
	RateLow  float64 `json:"rate_low"`
	RateHigh float64 `json:"rate_high"`
	// Baseline is p0 (clamped), from BaselineChecks checks with
	// BaselineFailures failures of the BaselineScope.
	Baseline         float64       `json:"p0"`
	BaselineScope    BaselineScope `json:"p0_scope"`
	BaselineChecks   int64         `json:"p0_checks"`
	BaselineFailures int64         `json:"p0_failures"`
	// Z, Phi, ZAdjusted, Limit and CUSUM are set for assessed clusters only.
	Z          float64 `json:"z"`
	Phi        float64 `json:"phi"`
	ZAdjusted  float64 `json:"z_adjusted"`
	Limit      Limit   `json:"limit"`
	LimitValue float64 `json:"limit_value"`
	CUSUM      CUSUM   `json:"cusum"`
	// Top are the enterprises with the most failures in the window (ties
	// by USCC), at most Config.TopEnterprises.
	Top []FirmEvidence `json:"top"`
}

// CUSUM is the Bernoulli CUSUM of a cluster's checks in (occurred_at, id) order.
type CUSUM struct {
	P1    float64 `json:"p1"`
	H     float64 `json:"h"`
	Final float64 `json:"final"`
	Max   float64 `json:"max"`
	// SignalAt is the time of the first check of the recent months at which
	// S reached h; zero when it did not.
	SignalAt time.Time `json:"signal_at,omitzero"`
}

// FirmEvidence is one enterprise's part in a cluster's failures.
type FirmEvidence struct {
	USCC     model.USCC `json:"uscc"`
	Name     string     `json:"name"`
	Checks   int64      `json:"checks"`
	Failures int64      `json:"failures"`
	// Events are the ids of its failed checks in the window, in time order.
	Events []string `json:"events"`
}

// Indicators are a cluster's other supervision figures in the window.
type Indicators struct {
	Enterprises int64 `json:"enterprises"`
	// Graded enterprises have a grade; GradeCD of them are C or D.
	Graded           int64   `json:"graded"`
	GradeCD          int64   `json:"grade_cd"`
	GradeCDShare     float64 `json:"grade_cd_share"`
	Penalties        int64   `json:"penalties"`
	PenaltiesPer100  float64 `json:"penalties_per_100"`
	Complaints       int64   `json:"complaints"`
	ComplaintsPer100 float64 `json:"complaints_per_100"`
	OverdueHazards   int64   `json:"overdue_hazards"`
	Accidents        int64   `json:"accidents"`
	// SeriousAccidents are those of Config.AccidentGrades, with their ids.
	SeriousAccidents int64    `json:"serious_accidents"`
	AccidentEvents   []string `json:"accident_events,omitempty"`
	// FailedProducts are the products with the most failures (ties by name).
	FailedProducts []ProductFailures `json:"failed_products,omitempty"`
}

// ProductFailures counts one product's checks and failures in a cluster.
type ProductFailures struct {
	Product  string `json:"product"`
	Checks   int64  `json:"checks"`
	Failures int64  `json:"failures"`
}

// Cluster finds a cluster's assessment by key.
func (r *Result) Cluster(key string) (Assessment, bool) {
	i, ok := slices.BinarySearchFunc(r.Clusters, key, func(a Assessment, k string) int { return strings.Compare(a.Cluster, k) })
	if !ok {
		return Assessment{}, false
	}
	return r.Clusters[i], true
}
