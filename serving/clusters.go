package serving

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// jobClusters is pipelines.JobClusters (serving does not import pipelines).
const jobClusters = "clusters"

// ClustersPart is the loader of the clusters job's part of the read model
// (a *ClusterPart): register it in Options.Parts.
func ClustersPart() PartLoader { return PartLoader{Job: jobClusters, Load: loadClusters} }

// ClusterPart is the clusters job's share of the read model, from its
// current run: the assessments, warnings and funnel plots, and the county
// × division heat map the dashboards draw. A city has hundreds of
// clusters and warnings, not millions, so they are kept decoded.
type ClusterPart struct {
	Run         model.ClusterRun
	assessments []model.ClusterAssessment // by cluster key
	warnings    []model.Warning           // by id
	letterRuns  []int                     // per warning: the version of the run holding its letter, or 0
	funnels     []model.FunnelPlot        // by division
	cells       []ClusterCell             // by county, then division
	bytes       int64
}

// Bytes is the payload bytes the part was built from, about its memory.
func (p *ClusterPart) Bytes() int64 { return p.bytes }

// ClusterCell is one county × GB/T 4754 division of the heat map: the
// clusters whose county and division (those of most of their enterprises)
// they are, with their checks and levels.
type ClusterCell struct {
	County   string `json:"county"`
	Division string `json:"division"`
	Clusters int    `json:"clusters"`
	// Assessed clusters met the minimum sample; the others have
	// insufficient data.
	Assessed    int     `json:"assessed"`
	Enterprises int64   `json:"enterprises"`
	Checks      int64   `json:"n"`
	Failures    int64   `json:"x"`
	Rate        float64 `json:"rate"`
	// Level is the highest level of its clusters; the counts are per level.
	Level  model.Level `json:"level"`
	Red    int         `json:"red"`
	Orange int         `json:"orange"`
	Yellow int         `json:"yellow"`
	Blue   int         `json:"blue"`
}

func loadClusters(ctx context.Context, src Source, run warehouse.Run, _ *Model) (Part, error) {
	p := &ClusterPart{}
	err := src.ReadOutputs(ctx, warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true}, func(o warehouse.OutputRow) error {
		p.bytes += int64(len(o.Key) + len(o.Payload))
		switch k := o.Key; {
		case strings.HasPrefix(k, model.ClusterKeyAssessment):
			p.assessments = append(p.assessments, model.ClusterAssessment{})
			return decodeOutput(o, &p.assessments[len(p.assessments)-1])
		case strings.HasPrefix(k, model.ClusterKeyWarning):
			p.warnings = append(p.warnings, model.Warning{})
			return decodeOutput(o, &p.warnings[len(p.warnings)-1])
		case strings.HasPrefix(k, model.ClusterKeyFunnel):
			p.funnels = append(p.funnels, model.FunnelPlot{})
			return decodeOutput(o, &p.funnels[len(p.funnels)-1])
		case k == model.ClusterKeyRun:
			return decodeOutput(o, &p.Run)
		}
		return nil // letters are read when asked for
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(p.assessments, func(a, b model.ClusterAssessment) int { return strings.Compare(a.Cluster, b.Cluster) })
	slices.SortFunc(p.warnings, func(a, b model.Warning) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(p.funnels, func(a, b model.FunnelPlot) int { return strings.Compare(a.Division, b.Division) })
	if err := p.findLetters(ctx, src); err != nil {
		return nil, err
	}
	p.cells = heatMap(p.assessments)
	return p, nil
}

func decodeOutput(o warehouse.OutputRow, v any) error {
	if err := json.Unmarshal(o.Payload, v); err != nil {
		return fmt.Errorf("output %s: %w", o.Key, err)
	}
	return nil
}

// findLetters finds the run holding each warning's letter: the current
// clusters run of its letter_on day (the one that wrote it, unless that
// day was re-run since).
func (p *ClusterPart) findLetters(ctx context.Context, src Source) error {
	p.letterRuns = make([]int, len(p.warnings))
	if !slices.ContainsFunc(p.warnings, func(w model.Warning) bool { return w.LetterOn != "" }) {
		return nil
	}
	runs, err := src.Runs(ctx, warehouse.RunFilter{Job: jobClusters, Status: warehouse.RunSucceeded})
	if err != nil {
		return err
	}
	for i, w := range p.warnings {
		if r, ok := warehouse.CurrentRun(runs, jobClusters, w.LetterOn); ok && w.LetterOn != "" && r.AsOf == w.LetterOn {
			p.letterRuns[i] = r.Version
		}
	}
	return nil
}

func heatMap(as []model.ClusterAssessment) []ClusterCell {
	var cells []ClusterCell
	index := map[[2]string]int{}
	for _, a := range as {
		k := [2]string{a.County, a.Division}
		i, ok := index[k]
		if !ok {
			i = len(cells)
			index[k] = i
			cells = append(cells, ClusterCell{County: a.County, Division: a.Division})
		}
		c := &cells[i]
		c.Clusters++
		if a.Status == model.AssessmentStatusAssessed {
			c.Assessed++
		}
		c.Enterprises += a.Indicators.Enterprises
		c.Checks += a.Evidence.Checks
		c.Failures += a.Evidence.Failures
		if a.Level.Rank() > c.Level.Rank() {
			c.Level = a.Level
		}
		switch a.Level {
		case model.LevelRed:
			c.Red++
		case model.LevelOrange:
			c.Orange++
		case model.LevelYellow:
			c.Yellow++
		case model.LevelBlue:
			c.Blue++
		}
	}
	for i := range cells {
		if cells[i].Checks > 0 {
			cells[i].Rate = float64(cells[i].Failures) / float64(cells[i].Checks)
		}
	}
	slices.SortFunc(cells, func(a, b ClusterCell) int {
		return cmp.Or(strings.Compare(a.County, b.County), strings.Compare(a.Division, b.Division))
	})
	return cells
}

// ClusterFilter selects clusters or warnings; zero values select all.
type ClusterFilter struct {
	// County is a GB/T 2260 code: the city (320800) selects every county.
	County string
	// Division is a GB/T 4754 section or division (C, C30).
	Division string
	Cluster  string
	// Level selects that level exactly; MinLevel that level or above.
	Level    model.Level
	MinLevel model.Level
	// Status is a warning's (open, closed) or an assessment's (assessed,
	// insufficient_data).
	Status string
	// NeedsAcknowledgement, when set, selects warnings by whether they wait
	// for an analyst.
	NeedsAcknowledgement *bool
}

func (f ClusterFilter) match(county, division, cluster string, level model.Level, status string) bool {
	switch {
	case f.County != "" && !InRegion(county, f.County):
		return false
	case f.Division != "" && !InIndustry(division, f.Division):
		return false
	case f.Cluster != "" && cluster != f.Cluster:
		return false
	case f.Level != "" && level != f.Level:
		return false
	case f.MinLevel != "" && !level.AtLeast(f.MinLevel):
		return false
	case f.Status != "" && status != f.Status:
		return false
	}
	return true
}

// WarningPage is a page of warnings with the total that matched.
type WarningPage struct {
	Total int
	Items []model.Warning
}

// Warnings pages through the warnings that match f: the open ones first,
// most severe first, then by id.
func (p *ClusterPart) Warnings(f ClusterFilter, offset, limit int) WarningPage {
	var matched []int
	for i, w := range p.warnings {
		if f.match(w.County, w.Division, w.Cluster, w.Level, string(w.Status)) &&
			(f.NeedsAcknowledgement == nil || *f.NeedsAcknowledgement == w.NeedsAcknowledgement) {
			matched = append(matched, i)
		}
	}
	closed := func(w model.Warning) int {
		if w.Status == model.WarningStatusOpen {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(matched, func(a, b int) int { // stable: ids stay in order
		x, y := p.warnings[a], p.warnings[b]
		return cmp.Or(cmp.Compare(closed(x), closed(y)), cmp.Compare(y.Level.Rank(), x.Level.Rank()))
	})
	page := WarningPage{Total: len(matched), Items: []model.Warning{}}
	for _, i := range matched[min(offset, len(matched)):min(offset+limit, len(matched))] {
		page.Items = append(page.Items, p.warnings[i])
	}
	return page
}

// Warning is one warning by id.
func (p *ClusterPart) Warning(id string) (model.Warning, bool) {
	i, ok := slices.BinarySearchFunc(p.warnings, id, func(w model.Warning, id string) int { return strings.Compare(w.ID, id) })
	if !ok {
		return model.Warning{}, false
	}
	return p.warnings[i], true
}

// LetterRun is the version of the clusters run holding a warning's letter
// (its key: model.ClusterKeyLetter + id); false when it has none.
func (p *ClusterPart) LetterRun(id string) (int, bool) {
	i, ok := slices.BinarySearchFunc(p.warnings, id, func(w model.Warning, id string) int { return strings.Compare(w.ID, id) })
	if !ok || p.letterRuns[i] == 0 {
		return 0, false
	}
	return p.letterRuns[i], true
}

// Assessments are the current assessments that match f, by cluster key.
func (p *ClusterPart) Assessments(f ClusterFilter) []model.ClusterAssessment {
	out := []model.ClusterAssessment{}
	for _, a := range p.assessments {
		if f.match(a.County, a.Division, a.Cluster, a.Level, string(a.Status)) {
			out = append(out, a)
		}
	}
	return out
}

// Assessment is one cluster's current assessment.
func (p *ClusterPart) Assessment(cluster string) (model.ClusterAssessment, bool) {
	i, ok := slices.BinarySearchFunc(p.assessments, cluster, func(a model.ClusterAssessment, k string) int { return strings.Compare(a.Cluster, k) })
	if !ok {
		return model.ClusterAssessment{}, false
	}
	return p.assessments[i], true
}

// Funnel is a division's funnel plot.
func (p *ClusterPart) Funnel(division string) (model.FunnelPlot, bool) {
	i, ok := slices.BinarySearchFunc(p.funnels, division, func(f model.FunnelPlot, d string) int { return strings.Compare(f.Division, d) })
	if !ok {
		return model.FunnelPlot{}, false
	}
	return p.funnels[i], true
}

// Divisions are the divisions with a funnel plot.
func (p *ClusterPart) Divisions() []string {
	out := make([]string, len(p.funnels))
	for i, f := range p.funnels {
		out[i] = f.Division
	}
	return out
}

// HeatMap is the county × division cells that match f (County and
// Division only), by county then division.
func (p *ClusterPart) HeatMap(f ClusterFilter) []ClusterCell {
	out := []ClusterCell{}
	for _, c := range p.cells {
		if (f.County == "" || InRegion(c.County, f.County)) && (f.Division == "" || InIndustry(c.Division, f.Division)) {
			out = append(out, c)
		}
	}
	return out
}

// Clusters is the model's clusters part, or nil when no clusters run is current.
func (m *Model) Clusters() *ClusterPart {
	p, _ := m.Part(jobClusters).(*ClusterPart)
	return p
}
