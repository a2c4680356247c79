package pipelines

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/warehouse"
)

// JobRecheck is the name of the recheck job.
const JobRecheck = "recheck"

// RecheckJobConfig is what the bureau may change about the re-check.
type RecheckJobConfig struct {
	// Kinds are the licence kinds whose holders are re-checked (default
	// industrial_product: 工业产品生产许可证).
	Kinds   []string
	Recheck planning.RecheckConfig
}

// DefaultRecheckJobConfig re-checks holders of industrial-product licences,
// 10 %, own county excluded, one complaint or problem enough to add a firm.
func DefaultRecheckJobConfig() RecheckJobConfig {
	return RecheckJobConfig{Kinds: []string{"industrial_product"}, Recheck: planning.DefaultRecheckConfig()}
}

// RecheckJob fixes the year's re-check frame (measures 三(二)3(4)): the firms
// newly licensed or re-licensed in the year before the as_of's (抽查10%上年度
// 新取得证（包括复查）企业), k = ⌈rate × N⌉ of them to draw, and the licensed
// firms with complaints or problems that year (failed spot checks,
// penalties not revoked, serious hazards left past their deadline), which
// are added to it (不定期抽查). The draw itself is made the verifiable way, in
// two steps, from the job's current output: `qcredit lottery create-recheck`,
// then `qcredit lottery draw`.
//
// Outputs: "concern/<USCC>" (a RecheckConcern), "pool/<USCC>" (a
// RecheckPoolFirm) and "summary" (a RecheckSummary, value k).
// Default schedule: 2 January at 04:00, as of 1 January.
type RecheckJob struct {
	src RecheckSource
	cfg RecheckJobConfig
	log *slog.Logger
}

// NewRecheckJob builds the recheck job.
func NewRecheckJob(src RecheckSource, cfg RecheckJobConfig, log *slog.Logger) *RecheckJob {
	return &RecheckJob{src: src, cfg: cfg, log: log}
}

func (j *RecheckJob) Name() string     { return JobRecheck }
func (j *RecheckJob) Schedule() string { return "0 4 2 1 *" }

// ModelVersion names the kinds and the rule.
func (j *RecheckJob) ModelVersion() string {
	c := j.cfg.Recheck
	return fmt.Sprintf("recheck-%s-r%s-own%t-c%d-p%d", strings.Join(j.cfg.Kinds, "+"), c.Rate, !c.ExcludeOwnCounty, c.MinComplaints, c.MinProblems)
}

// RecheckPoolFirm is a firm licensed or re-licensed in the year.
type RecheckPoolFirm struct {
	USCC     model.USCC `json:"uscc"`
	County   string     `json:"county"`
	Licences []string   `json:"licences"` // the licence.granted event ids
}

// RecheckConcern is a licensed firm's complaints and problems in the year, by event id.
type RecheckConcern struct {
	USCC       model.USCC `json:"uscc"`
	County     string     `json:"county"`
	Complaints []string   `json:"complaints"`
	Problems   []string   `json:"problems"`
}

// RecheckSummary is the frame's arithmetic and rules.
type RecheckSummary struct {
	// Year is the licensing year.
	Year             int              `json:"year"`
	Kinds            []string         `json:"kinds"`
	Pool             int64            `json:"pool"`
	Rate             planning.Decimal `json:"rate"`
	Sample           int64            `json:"sample"` // ⌈rate × pool⌉
	Concerns         int              `json:"concerns"`
	ExcludeOwnCounty bool             `json:"exclude_own_county"`
	MinComplaints    int              `json:"min_complaints"`
	MinProblems      int              `json:"min_problems"`
}

// Config is the re-check rule the summary records.
func (s RecheckSummary) Config() planning.RecheckConfig {
	return planning.RecheckConfig{Rate: s.Rate, ExcludeOwnCounty: s.ExcludeOwnCounty, MinComplaints: s.MinComplaints, MinProblems: s.MinProblems}
}

// Run fixes the frame of the licensing year before the as_of's.
func (j *RecheckJob) Run(ctx context.Context, in RunInput) (Output, error) {
	if err := j.cfg.Recheck.Validate(); err != nil {
		return Output{}, err
	}
	asOf, err := ParseAsOf(in.Run.AsOf, time.Time{})
	if err != nil {
		return Output{}, err
	}
	year := asOf.Date.Year() - 1
	all := warehouse.Window{Cutoff: in.Cutoff, Watermark: in.Watermark}
	states, err := firmStates(ctx, j.src, all)
	if err != nil {
		return Output{}, err
	}
	rows, err := eventsOf(ctx, j.src, all, licenceTypes...)
	if err != nil {
		return Output{}, err
	}
	pool, holders := j.licensed(licences(rows), states, year, asOf.Date)
	concerns, err := j.concerns(ctx, in, year, asOf.Date, holders)
	if err != nil {
		return Output{}, err
	}
	for _, c := range concerns {
		if err := addOutput(in.Outputs, warehouse.OutputRow{Key: "concern/" + string(c.USCC), USCC: string(c.USCC), Label: c.County,
			Value: int64(len(c.Complaints) + len(c.Problems))}, c); err != nil {
			return Output{}, err
		}
	}
	for _, f := range pool {
		if err := addOutput(in.Outputs, warehouse.OutputRow{Key: "pool/" + string(f.USCC), USCC: string(f.USCC), Label: f.County,
			Value: int64(len(f.Licences))}, f); err != nil {
			return Output{}, err
		}
	}
	c := j.cfg.Recheck
	sum := RecheckSummary{Year: year, Kinds: j.cfg.Kinds, Pool: int64(len(pool)), Rate: c.Rate, Sample: c.Rate.Ceil(int64(len(pool))),
		Concerns: len(concerns), ExcludeOwnCounty: c.ExcludeOwnCounty, MinComplaints: c.MinComplaints, MinProblems: c.MinProblems}
	if err := addOutput(in.Outputs, warehouse.OutputRow{Key: "summary", Label: fmt.Sprint(year), Value: sum.Sample}, sum); err != nil {
		return Output{}, err
	}
	return Output{Counts: map[string]int64{"pool": sum.Pool, "sample": sum.Sample, "concerns": int64(len(concerns))}}, nil
}

// licensed are the firms granted a licence of the kinds in year (the pool),
// and those holding one on the as_of day or granted one in year (whose
// concerns count), both by USCC.
func (j *RecheckJob) licensed(ls []licence, states map[model.USCC]warehouse.FirmState, year int, asOf time.Time) ([]RecheckPoolFirm, map[model.USCC]string) {
	from, to := yearStart(year), yearStart(year+1)
	by := map[model.USCC]*RecheckPoolFirm{}
	holders := map[model.USCC]string{}
	for _, l := range ls {
		if !slices.Contains(j.cfg.Kinds, l.Kind) {
			continue
		}
		county := countyOf(states, l.USCC, l.Source)
		granted := !l.GrantedAt.Before(from) && l.GrantedAt.Before(to)
		if granted {
			f := by[l.USCC]
			if f == nil {
				f = &RecheckPoolFirm{USCC: l.USCC, County: county}
				by[l.USCC] = f
			}
			f.Licences = append(f.Licences, l.GrantID)
		}
		if granted || l.heldOn(asOf) {
			holders[l.USCC] = county
		}
	}
	out := make([]RecheckPoolFirm, 0, len(by))
	for _, f := range by {
		slices.Sort(f.Licences)
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b RecheckPoolFirm) int { return strings.Compare(string(a.USCC), string(b.USCC)) })
	return out, holders
}

// concerns are the holders' complaints received and problems in year: failed
// spot checks, penalties not revoked by the as_of, and serious hazards found
// that year and open past their deadline on the as_of day.
func (j *RecheckJob) concerns(ctx context.Context, in RunInput, year int, asOf time.Time, holders map[model.USCC]string) ([]RecheckConcern, error) {
	w := warehouse.Window{From: yearStart(year), Cutoff: earlier(yearStart(year+1), in.Cutoff), Watermark: in.Watermark}
	by := map[model.USCC]*RecheckConcern{}
	concern := func(u model.USCC) *RecheckConcern {
		if by[u] == nil {
			by[u] = &RecheckConcern{USCC: u, County: holders[u], Complaints: []string{}, Problems: []string{}}
		}
		return by[u]
	}
	rows, err := eventsOf(ctx, j.src, w, model.EventComplaintReceived, model.EventPenaltyDecided, model.EventEquipmentHazardFound)
	if err != nil {
		return nil, err
	}
	// What undid a problem counts up to the as_of: a revocation, a correction.
	undone, err := eventsOf(ctx, j.src, warehouse.Window{From: w.From, Cutoff: in.Cutoff, Watermark: in.Watermark},
		model.EventPenaltyRevoked, model.EventEquipmentHazardFixed)
	if err != nil {
		return nil, err
	}
	annulled := map[string]bool{}
	for _, e := range undone {
		if e.Type == model.EventPenaltyRevoked {
			annulled[string(e.USCC)+"|"+e.Facets.Ref] = true
		}
	}
	for _, e := range rows {
		if _, ok := holders[e.USCC]; !ok {
			continue
		}
		switch {
		case e.Type == model.EventComplaintReceived:
			concern(e.USCC).Complaints = append(concern(e.USCC).Complaints, e.ID)
		case e.Type == model.EventPenaltyDecided && !annulled[string(e.USCC)+"|"+e.Facets.Ref]:
			concern(e.USCC).Problems = append(concern(e.USCC).Problems, e.ID)
		}
	}
	eq, err := planning.SelfCorrection(planning.EquipmentInput{AsOf: asOf, Hazards: qualifyHazardIDs(hazards(slices.Concat(rows, undone))), Rules: planning.DefaultEquipmentRules()})
	if err != nil {
		return nil, err
	}
	for _, h := range eq.Overdue {
		if _, ok := holders[h.USCC]; ok {
			concern(h.USCC).Problems = append(concern(h.USCC).Problems, h.Reason.Events...)
		}
	}
	err = j.failedChecks(ctx, w, func(u model.USCC, ids []string) {
		if _, ok := holders[u]; ok && len(ids) > 0 {
			concern(u).Problems = append(concern(u).Problems, ids...)
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]RecheckConcern, 0, len(by))
	for _, c := range by {
		slices.Sort(c.Complaints)
		slices.Sort(c.Problems) // in place: an empty list stays [] in the payload, not null
		c.Problems = slices.Compact(c.Problems)
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b RecheckConcern) int { return strings.Compare(string(a.USCC), string(b.USCC)) })
	return out, nil
}

// failedChecks hands over each firm's failed spot checks in w, by id,
// per product checked.
func (j *RecheckJob) failedChecks(ctx context.Context, w warehouse.Window, fn func(model.USCC, []string)) error {
	return j.src.ProductChecks(ctx, warehouse.ProductCheckQuery{Window: w, RecentFrom: w.From}, func(p warehouse.ProductCheck) error {
		fn(p.USCC, p.RecentFailures)
		return nil
	})
}
