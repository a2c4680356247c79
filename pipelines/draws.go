package pipelines

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/warehouse"
)

// The verifiable draws (DOMAIN.md, The random inspection draw) as planning
// records: a "created" record holds what creation published (the document
// and its files) and what it was made from; a "drawn" record the revealed
// seed and the beacon. The lottery job derives every draw's published state
// from them; the seed before the draw lives only in the warehouse's
// draw_seeds.

// DrawKind is what a draw draws.
type DrawKind string

const (
	// DrawKindInspection: firms and two inspectors each (摇号, 双随机).
	DrawKindInspection DrawKind = "inspection"
	// DrawKindRecheck: ⌈10 %⌉ of last year's newly licensed firms, plus those with concerns.
	DrawKindRecheck DrawKind = "recheck"
	// DrawKindAssignment: a testing agency for each of the plan's batches.
	DrawKindAssignment DrawKind = "assignment"
)

// Files are the published files of a draw of the kind, in URL order.
func (k DrawKind) Files() []string {
	if k == DrawKindAssignment {
		return []string{"agencies.csv", "batches.csv"}
	}
	return []string{"inspectors.csv", "pool.csv"}
}

// DrawBasis is what a draw was made from, for the audit: the filters, the
// runs whose outputs fixed it and how many candidates were left out.
type DrawBasis struct {
	Region   string `json:"region,omitempty"`
	Industry string `json:"industry,omitempty"`
	Licence  string `json:"licence,omitempty"`
	// ScoreRun fixed the grades, RecheckRun the re-check frame, PlanRun the batches.
	ScoreRun   string `json:"score_run,omitempty"`
	RecheckRun string `json:"recheck_run,omitempty"`
	PlanRun    string `json:"plan_run,omitempty"`
	// Ungraded firms matched the filters but had no grade: not eligible.
	Ungraded int `json:"ungraded,omitempty"`
	// Applications are the agency.applied events whose agencies competed;
	// none means every qualified agency of the registry competed.
	Applications []string `json:"applications,omitempty"`
	CreatedBy    string   `json:"created_by,omitempty"`
	DrawnBy      string   `json:"drawn_by,omitempty"`
}

const (
	stepCreated = "created"
	stepDrawn   = "drawn"
)

// drawStep is the body of a draw record.
type drawStep struct {
	Step string   `json:"step"`
	Kind DrawKind `json:"kind,omitempty"`
	// Document is the committed document as published at creation.
	Document json.RawMessage   `json:"document,omitempty"`
	Files    map[string]string `json:"files,omitempty"`
	Basis    *DrawBasis        `json:"basis,omitempty"`
	// Seed (lowercase hex) and Beacon (normalised) are revealed at the draw.
	Seed   string `json:"seed,omitempty"`
	Beacon string `json:"beacon,omitempty"`
	By     string `json:"by,omitempty"`
}

// drawRecords are one draw's records: its creation, and its first draw if any.
type drawRecords struct {
	ID      string
	Created drawStep
	Drawn   *drawStep
}

// foldDraws groups draw records (ordered by key, then as recorded) into
// draws; a draw's first drawn record after its creation counts.
func foldDraws(recs []warehouse.PlanningRecord) ([]drawRecords, error) {
	var out []drawRecords
	for _, r := range recs {
		var s drawStep
		if err := json.Unmarshal(r.Body, &s); err != nil {
			return nil, fmt.Errorf("draw record %s: %w", r.Key, err)
		}
		n := len(out)
		switch {
		case s.Step == stepCreated && (n == 0 || out[n-1].ID != r.Key):
			out = append(out, drawRecords{ID: r.Key, Created: s})
		case s.Step == stepDrawn && n > 0 && out[n-1].ID == r.Key && out[n-1].Drawn == nil:
			out[n-1].Drawn = &s
		}
	}
	return out, nil
}

// PublishedDraw is a draw as published: its document and files, and the
// explanation analysts read beside it.
type PublishedDraw struct {
	ID       string
	Kind     DrawKind
	Status   planning.DrawStatus
	Document []byte
	Files    map[string][]byte
	Explain  DrawExplanation
	// Selected counts the firms drawn (with those added) or batches assigned.
	Selected int
}

// DrawExplanation is what a draw was made from and what it gave, beyond
// its published document.
type DrawExplanation struct {
	ID     string              `json:"id"`
	Kind   DrawKind            `json:"kind"`
	Status planning.DrawStatus `json:"status"`
	Basis  DrawBasis           `json:"basis"`
	// Strata are an inspection draw's N_g, p_g and k_g per grade, once drawn.
	Strata []planning.Stratum `json:"strata,omitempty"`
	// Short are the firms that got fewer than two inspectors (the pool
	// needs inspectors from other counties).
	Short []model.USCC `json:"short,omitempty"`
	// Lines are a drawn re-check's firms with their reasons and inspectors.
	Lines []planning.RecheckLine `json:"lines,omitempty"`
	// Unassigned are an assignment's batches no eligible agency is qualified for.
	Unassigned []string `json:"unassigned,omitempty"`
	// Checks is how many of verification's checks the published draw passed.
	Checks int `json:"checks"`
}

// errDrawRefused marks a draw step that does not recompute (a seed that
// misses the commitment, files that miss their hashes).
var errDrawRefused = errors.New("draw refused")

// publish derives a draw's published state from its records: the created
// document, or the drawn one recomputed from the created one, its files,
// the seed and the beacon; it verifies what it would publish.
func publish(d drawRecords) (PublishedDraw, error) {
	c := d.Created
	p := PublishedDraw{ID: d.ID, Kind: c.Kind, Status: planning.DrawStatusCommitted, Files: map[string][]byte{}}
	for _, name := range c.Kind.Files() {
		f, ok := c.Files[name]
		if !ok {
			return p, fmt.Errorf("draw %s: %w: its creation has no %s", d.ID, errDrawRefused, name)
		}
		p.Files[name] = []byte(f)
	}
	p.Explain = DrawExplanation{ID: d.ID, Kind: c.Kind, Status: planning.DrawStatusCommitted}
	if c.Basis != nil {
		p.Explain.Basis = *c.Basis
	}
	var seed planning.Seed
	if d.Drawn != nil {
		var err error
		if seed, err = planning.ParseSeed(d.Drawn.Seed); err != nil {
			return p, fmt.Errorf("draw %s: %w: %v", d.ID, errDrawRefused, err)
		}
		p.Status, p.Explain.Status, p.Explain.Basis.DrawnBy = planning.DrawStatusDrawn, planning.DrawStatusDrawn, d.Drawn.By
	}
	var err error
	switch c.Kind {
	case DrawKindInspection:
		err = publishInspection(&p, c.Document, seed, d.Drawn)
	case DrawKindRecheck:
		err = publishRecheck(&p, c.Document, seed, d.Drawn)
	case DrawKindAssignment:
		err = publishAssignment(&p, c.Document, seed, d.Drawn)
	default:
		err = fmt.Errorf("kind %q is not inspection, recheck or assignment", c.Kind)
	}
	if err != nil {
		return p, fmt.Errorf("draw %s: %w: %v", d.ID, errDrawRefused, err)
	}
	return p, nil
}

func publishInspection(p *PublishedDraw, doc []byte, seed planning.Seed, drawn *drawStep) error {
	d, err := planning.ParseDraw(doc)
	if err != nil {
		return err
	}
	in := planning.VerifyDrawInput{Draw: d, PoolCSV: p.Files["pool.csv"], InspectorsCSV: p.Files["inspectors.csv"]}
	if drawn != nil {
		res, err := planning.PerformDraw(planning.PerformDrawInput{Draw: d, PoolCSV: in.PoolCSV, InspectorsCSV: in.InspectorsCSV,
			Seed: seed, Beacon: drawn.Beacon})
		if err != nil {
			return err
		}
		committed := d
		in.Draw, in.Committed = res.Draw, &committed
		p.Explain.Strata, p.Explain.Short, p.Selected = res.Strata, res.Short, len(res.Draw.Drawn)
	}
	return p.verified(in.Draw, planning.VerifyDraw(in))
}

func publishRecheck(p *PublishedDraw, doc []byte, seed planning.Seed, drawn *drawStep) error {
	r, err := planning.ParseRecheck(doc)
	if err != nil {
		return err
	}
	in := planning.VerifyRecheckInput{Recheck: r, PoolCSV: p.Files["pool.csv"], InspectorsCSV: p.Files["inspectors.csv"]}
	if drawn != nil {
		res, err := planning.PerformRecheck(planning.PerformRecheckInput{Recheck: r, PoolCSV: in.PoolCSV, InspectorsCSV: in.InspectorsCSV,
			Seed: seed, Beacon: drawn.Beacon})
		if err != nil {
			return err
		}
		in.Recheck = res.Recheck
		p.Explain.Lines, p.Explain.Short = res.Lines(), res.Short
		p.Selected = len(p.Explain.Lines)
	}
	return p.verified(in.Recheck, planning.VerifyRecheck(in))
}

func publishAssignment(p *PublishedDraw, doc []byte, seed planning.Seed, drawn *drawStep) error {
	a, err := planning.ParseAssignment(doc)
	if err != nil {
		return err
	}
	in := planning.VerifyAssignmentInput{Assignment: a, BatchesCSV: p.Files["batches.csv"], AgenciesCSV: p.Files["agencies.csv"]}
	if drawn != nil {
		res, err := planning.PerformAssignment(planning.PerformAssignmentInput{Assignment: a, BatchesCSV: in.BatchesCSV,
			AgenciesCSV: in.AgenciesCSV, Seed: seed, Beacon: drawn.Beacon})
		if err != nil {
			return err
		}
		in.Assignment = res
		p.Explain.Unassigned, p.Selected = res.Unassigned, len(res.Assigned)
	}
	return p.verified(in.Assignment, planning.VerifyAssignment(in))
}

// verified sets the document once verification of what would be published passed.
func (p *PublishedDraw) verified(doc any, v planning.Verification) error {
	if err := v.Err(); err != nil {
		return fmt.Errorf("it would not verify: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	p.Document, p.Explain.Checks = b, len(v.Checks)
	return nil
}

// sortedFileNames are a draw's file names in order.
func sortedFileNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// KindOf tells a published document's kind by its fields: a re-check has a
// licensing year, an assignment a plan, an inspection draw neither.
func KindOf(doc []byte) (DrawKind, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		return "", fmt.Errorf("draw document: %w", err)
	}
	switch {
	case fields["year"] != nil:
		return DrawKindRecheck, nil
	case fields["plan"] != nil:
		return DrawKindAssignment, nil
	}
	return DrawKindInspection, nil
}

// VerifyPublished recomputes a published draw of any kind from its
// document and files (by name: pool.csv, …) alone, and says which check
// failed. committed, when set, is an inspection draw's document as
// published at creation: what creation fixed must not have changed.
func VerifyPublished(doc []byte, files map[string][]byte, committed []byte) (DrawKind, planning.Verification, error) {
	kind, err := KindOf(doc)
	if err != nil {
		return "", planning.Verification{}, err
	}
	switch kind {
	case DrawKindRecheck:
		r, err := planning.ParseRecheck(doc)
		if err != nil {
			return kind, planning.Verification{}, err
		}
		return kind, planning.VerifyRecheck(planning.VerifyRecheckInput{Recheck: r, PoolCSV: files["pool.csv"], InspectorsCSV: files["inspectors.csv"]}), nil
	case DrawKindAssignment:
		a, err := planning.ParseAssignment(doc)
		if err != nil {
			return kind, planning.Verification{}, err
		}
		return kind, planning.VerifyAssignment(planning.VerifyAssignmentInput{Assignment: a, BatchesCSV: files["batches.csv"],
			AgenciesCSV: files["agencies.csv"]}), nil
	}
	d, err := planning.ParseDraw(doc)
	if err != nil {
		return kind, planning.Verification{}, err
	}
	in := planning.VerifyDrawInput{Draw: d, PoolCSV: files["pool.csv"], InspectorsCSV: files["inspectors.csv"]}
	if committed != nil {
		c, err := planning.ParseDraw(committed)
		if err != nil {
			return kind, planning.Verification{}, fmt.Errorf("committed copy: %w", err)
		}
		in.Committed = &c
	}
	return kind, planning.VerifyDraw(in), nil
}
