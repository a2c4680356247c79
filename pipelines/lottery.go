package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/warehouse"
)

// JobLottery is the name of the lottery job.
const JobLottery = "lottery"

// LotteryJob publishes every draw's state (摇号: inspection draws, re-checks,
// agency assignments) from the draw records under its watermark: a created
// draw's committed document and files, a drawn one's document recomputed
// from them with the revealed seed and beacon, each verified before it is
// published. So the published draws are, like every job's outputs, a
// function of (as_of, watermark): a re-run --like reproduces them.
//
// Outputs: "<id>" (label the kind, value the firms or batches drawn, the
// published document), "<id>/<file>" (label "file", the file's exact bytes),
// "<id>/explain" (label the status, a DrawExplanation) and "_index" (the
// list of draws, a DrawIndex). A draw whose
// records do not recompute is left out, logged and counted (refused).
// Schedule: off; `qcredit lottery create` and `draw` run it.
type LotteryJob struct {
	store PlanningRecords
	log   *slog.Logger
}

// NewLotteryJob builds the lottery job.
func NewLotteryJob(store PlanningRecords, log *slog.Logger) *LotteryJob {
	return &LotteryJob{store: store, log: log}
}

func (j *LotteryJob) Name() string         { return JobLottery }
func (j *LotteryJob) Schedule() string     { return "off" }
func (j *LotteryJob) ModelVersion() string { return "qcredit-draw-v1" }

// Run publishes every draw recorded before the cutoff and up to the watermark.
func (j *LotteryJob) Run(ctx context.Context, in RunInput) (Output, error) {
	recs, err := j.store.PlanningRecords(ctx, warehouse.RecordQuery{Kind: warehouse.RecordKindDraw, Cutoff: in.Cutoff, Watermark: in.Watermark})
	if err != nil {
		return Output{}, err
	}
	draws, err := foldDraws(recs)
	if err != nil {
		return Output{}, err
	}
	counts := map[string]int64{"draws": 0, "committed": 0, "drawn": 0, "refused": 0}
	var rows []keyedOutput
	index := DrawIndex{Draws: []DrawListing{}}
	for _, d := range draws {
		p, err := publish(d)
		if errors.Is(err, errDrawRefused) {
			in.Log.Error("draw not published", "draw", d.ID, "err", err)
			counts["refused"]++
			continue
		}
		if err != nil {
			return Output{}, err
		}
		counts["draws"]++
		counts[string(p.Status)]++
		rows = append(rows, drawRows(p)...)
		index.Draws = append(index.Draws, listing(p))
	}
	rows = append(rows, keyedOutput{row: warehouse.OutputRow{Key: DrawIndexKey, Label: "index", Value: int64(len(index.Draws))}, v: index})
	slices.SortFunc(rows, func(a, b keyedOutput) int { return strings.Compare(a.row.Key, b.row.Key) })
	for _, r := range rows {
		if r.v == nil {
			if err := in.Outputs.Add(r.row); err != nil {
				return Output{}, err
			}
			continue
		}
		if err := addOutput(in.Outputs, r.row, r.v); err != nil {
			return Output{}, err
		}
	}
	return Output{Counts: counts}, nil
}

// DrawIndexKey is the key of the lottery's list of draws: "_" is in no draw id.
const DrawIndexKey = "_index"

// DrawIndex is the published list of draws, by id.
type DrawIndex struct {
	Draws []DrawListing `json:"draws"`
}

// DrawListing is one draw in the list: what it is and its files.
type DrawListing struct {
	ID     string              `json:"id"`
	Kind   DrawKind            `json:"kind"`
	Name   string              `json:"name"`
	Status planning.DrawStatus `json:"status"`
	// Period is an inspection draw's, Year a re-check's licensing year,
	// Plan an assignment's plan.
	Period *planning.Period `json:"period,omitempty"`
	Year   int              `json:"year,omitempty"`
	Plan   string           `json:"plan,omitempty"`
	Files  []string         `json:"files"`
}

// listing is a published draw's entry in the list.
func listing(p PublishedDraw) DrawListing {
	l := DrawListing{ID: p.ID, Kind: p.Kind, Status: p.Status, Files: sortedFileNames(p.Files)}
	var doc struct {
		Name   string           `json:"name"`
		Period *planning.Period `json:"period"`
		Year   int              `json:"year"`
		Plan   string           `json:"plan"`
	}
	if json.Unmarshal(p.Document, &doc) == nil {
		l.Name, l.Period, l.Year, l.Plan = doc.Name, doc.Period, doc.Year, doc.Plan
	}
	return l
}

// drawRows are a published draw's outputs: document, files, explanation.
func drawRows(p PublishedDraw) []keyedOutput {
	out := []keyedOutput{{row: warehouse.OutputRow{Key: p.ID, Label: string(p.Kind), Value: int64(p.Selected), Payload: p.Document}}}
	for _, name := range sortedFileNames(p.Files) {
		out = append(out, keyedOutput{row: warehouse.OutputRow{Key: p.ID + "/" + name, Label: "file",
			Value: int64(len(p.Files[name])), Payload: p.Files[name]}})
	}
	return append(out, keyedOutput{row: warehouse.OutputRow{Key: p.ID + "/explain", Label: string(p.Status)}, v: p.Explain})
}
