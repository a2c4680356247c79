package model

import "time"

// The outputs of the industrial-cluster risk warnings (产业集聚区质量风险预警):
// what the clusters job computes for each cluster (DOMAIN.md, "Cluster risk
// warnings: the statistics"), as the read model and the API show it.

// Keys of the clusters job's outputs (its run outputs, read by the read
// model and the API). Every output is about no single enterprise; payloads
// are canonical JSON except letters, which are HTML.
const (
	// ClusterKeyAssessment + cluster: the cluster's ClusterAssessment; label
	// its level ("" for none), value z' × 1000 rounded (0 when not assessed).
	ClusterKeyAssessment = "a/"
	// ClusterKeyFunnel + division: the division's FunnelPlot; label the
	// division, value its points.
	ClusterKeyFunnel = "f/"
	// ClusterKeyLetter + warning id: the warning letter (质量风险提示函, HTML)
	// of each warning the run raised or escalated to a level with a letter;
	// label the level.
	ClusterKeyLetter = "l/"
	// ClusterKeyRun: the run's ClusterRun; value the clusters assessed.
	ClusterKeyRun = "run"
	// ClusterKeyWarning + warning id: the Warning, open or closed within the
	// method's retention; label its level, value 1 while open.
	ClusterKeyWarning = "w/"
)

// Level is a cluster's risk level (预警等级). The empty level is none.
type Level string

const (
	LevelNone   Level = ""
	LevelBlue   Level = "blue"   // 蓝: a watch, not a warning
	LevelYellow Level = "yellow" // 黄
	LevelOrange Level = "orange" // 橙
	LevelRed    Level = "red"    // 红
)

// Levels are the levels, most severe first.
var Levels = []Level{LevelRed, LevelOrange, LevelYellow, LevelBlue}

var levelLabels = map[Level]string{LevelBlue: "蓝色", LevelYellow: "黄色", LevelOrange: "橙色", LevelRed: "红色"}

// Label is the level's Chinese name (红色, 橙色, 黄色, 蓝色; "" for none).
func (l Level) Label() string { return levelLabels[l] }

// Rank orders levels by severity: 0 for none (and unknown words), 4 for red.
func (l Level) Rank() int {
	switch l {
	case LevelBlue:
		return 1
	case LevelYellow:
		return 2
	case LevelOrange:
		return 3
	case LevelRed:
		return 4
	}
	return 0
}

// AtLeast reports whether l is as severe as o or more.
func (l Level) AtLeast(o Level) bool { return l.Rank() >= o.Rank() }

// ParseLevel reads a level word; "" and unknown words are an error.
func ParseLevel(s string) (Level, bool) {
	l := Level(s)
	return l, l.Rank() > 0
}

// AccidentGrade is the grade of a special-equipment accident (特种设备事故等级).
type AccidentGrade string

const (
	AccidentGradeGeneral         AccidentGrade = "general"          // 一般
	AccidentGradeLarger          AccidentGrade = "larger"           // 较大
	AccidentGradeMajor           AccidentGrade = "major"            // 重大
	AccidentGradeEspeciallyMajor AccidentGrade = "especially_major" // 特别重大
)

var accidentLabels = map[AccidentGrade]string{AccidentGradeGeneral: "一般", AccidentGradeLarger: "较大",
	AccidentGradeMajor: "重大", AccidentGradeEspeciallyMajor: "特别重大"}

// Valid reports whether g is one of the four grades of the contract.
func (g AccidentGrade) Valid() bool { _, ok := accidentLabels[g]; return ok }

// Label is the grade's Chinese name.
func (g AccidentGrade) Label() string { return accidentLabels[g] }

// Signal is one fact a level may require.
type Signal string

const (
	SignalAlert    Signal = "alert"    // z' above the alert limit (95 %)
	SignalAlarm    Signal = "alarm"    // z' above the alarm limit (99.8 %)
	SignalRising   Signal = "rising"   // the CUSUM reached h in the recent months
	SignalAccident Signal = "accident" // an accident of a configured grade in the window
)

// Limit is the funnel-plot limit a cluster's z' crossed.
type Limit string

const (
	LimitNone  Limit = ""
	LimitAlert Limit = "alert" // 95 %
	LimitAlarm Limit = "alarm" // 99.8 %
)

// AssessmentStatus says whether a cluster was assessed statistically.
type AssessmentStatus string

const (
	AssessmentStatusAssessed         AssessmentStatus = "assessed"
	AssessmentStatusInsufficientData AssessmentStatus = "insufficient_data" // 样本不足: below the minimum sample
)

// BaselineScope says which checks the baseline p0 came from.
type BaselineScope string

const (
	BaselineScopeDivision BaselineScope = "division" // the same division in the other clusters
	BaselineScopeCity     BaselineScope = "city"     // every other cluster of the city (too few in the division)
	BaselineScopeNone     BaselineScope = ""         // no other cluster had a check
)

// ClusterAssessment is one cluster's state in a run: its level, the
// signals and numbers behind it, its indicators and the reasons.
type ClusterAssessment struct {
	// Cluster is the declared cluster id, else county-division (Enterprise.ClusterKey).
	Cluster string `json:"cluster"`
	// Division is the GB/T 4754 division of most of its enterprises (ties:
	// the smallest code); County likewise the (current) county.
	Division string           `json:"division"`
	County   string           `json:"county"`
	Status   AssessmentStatus `json:"status"`
	Level    Level            `json:"level"`
	Signals  []Signal         `json:"signals"`
	Evidence ClusterEvidence  `json:"evidence"`
	// Indicators are shown with the warning; they do not decide the level.
	Indicators ClusterIndicators `json:"indicators"`
	Reasons    []Reason          `json:"reasons"`
}

// ClusterEvidence is the statistics of one cluster (DOMAIN.md): anyone
// holding the same records can recompute every number.
type ClusterEvidence struct {
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
	Z          float64       `json:"z"`
	Phi        float64       `json:"phi"`
	ZAdjusted  float64       `json:"z_adjusted"`
	Limit      Limit         `json:"limit"`
	LimitValue float64       `json:"limit_value"`
	CUSUM      CUSUMEvidence `json:"cusum"`
	// Top are the enterprises with the most failures in the window (ties
	// by USCC), as many as the method names.
	Top []FirmEvidence `json:"top"`
}

// CUSUMEvidence is the Bernoulli CUSUM of a cluster's checks in
// (occurred_at, id) order.
type CUSUMEvidence struct {
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
	USCC     USCC   `json:"uscc"`
	Name     string `json:"name"`
	Checks   int64  `json:"checks"`
	Failures int64  `json:"failures"`
	// Events are the ids of its failed checks in the window, in time order.
	Events []string `json:"events"`
}

// ClusterIndicators are a cluster's other supervision figures in the window.
type ClusterIndicators struct {
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
	// SeriousAccidents are those of the method's accident grades, with their ids.
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

// FunnelPlot is the funnel plot of one division (漏斗图): each cluster's
// failure rate against its number of checks, around the division's rate,
// with the 95 % and 99.8 % limits widened by φ when φ > 1.
type FunnelPlot struct {
	Division string `json:"division"`
	// Baseline is the centre line: the rate of all the division's clusters
	// (the city's, when they have too few checks). Each cluster's own test
	// uses its baseline without itself, so a point near a limit may fall on
	// either side of its own decision.
	Baseline      float64        `json:"p0"`
	BaselineScope BaselineScope  `json:"p0_scope"`
	Phi           float64        `json:"phi"`
	Points        []FunnelPoint  `json:"points"`
	Limits        []FunnelLimits `json:"limits"`
}

// FunnelPoint is one cluster of the division with at least one check.
type FunnelPoint struct {
	Cluster   string           `json:"cluster"`
	County    string           `json:"county"`
	Checks    int64            `json:"n"`
	Rate      float64          `json:"rate"`
	ZAdjusted float64          `json:"z_adjusted"`
	Status    AssessmentStatus `json:"status"`
	Level     Level            `json:"level"`
}

// FunnelLimits are the limits at n checks, clipped to [0, 1].
type FunnelLimits struct {
	Checks   int64   `json:"n"`
	Low95    float64 `json:"low_95"`
	High95   float64 `json:"high_95"`
	Low998   float64 `json:"low_998"`
	High998  float64 `json:"high_998"`
	Baseline float64 `json:"p0"`
}

// ClusterRun is what a clusters run says about itself beside its
// assessments: its window, the overdispersion it estimated, and what it
// could not use.
type ClusterRun struct {
	AsOf string `json:"as_of"`
	// Method is the version of the cluster method (the hash of its file).
	Method string `json:"method"`
	// Checks with Start ≤ occurred_at < Cutoff counted; the CUSUM's recent
	// months start at Recent.
	Start  time.Time `json:"start"`
	Recent time.Time `json:"recent"`
	Cutoff time.Time `json:"cutoff"`
	// Phi is the overdispersion φ over PhiClusters clusters meeting the
	// minimum sample (1 when there were none).
	Phi         float64 `json:"phi"`
	PhiClusters int     `json:"phi_clusters"`
	// Unmatched counts window records of enterprises not registered at the cutoff.
	Unmatched int64 `json:"unmatched"`
	// PreviousAsOf is the as_of of the run whose warnings this one carried
	// on ("" for the first run).
	PreviousAsOf string `json:"previous_as_of"`
	// Ignored are analysts' events that named no warning of the run.
	Ignored []IgnoredEvent `json:"ignored"`
}

// IgnoredEvent is an analyst's event a run did not apply, and why.
type IgnoredEvent struct {
	EventID string `json:"event_id"`
	Reason  string `json:"reason"`
}
