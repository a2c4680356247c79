package clickhouse_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/qcredit/qcredit/model"
)

var (
	fixtureRegions  = []string{"320803", "320804", "320812", "320813", "320826", "320830", "320831"}
	fixtureProducts = []string{"电线电缆", "食品相关产品", "化肥", "建筑用钢筋", "电动自行车"}
	fixtureScales   = []string{"micro", "small", "medium", "large"}
	fixtureEpoch    = time.Date(2023, 1, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
)

type wireEvent struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	USCC       string         `json:"uscc"`
	Source     string         `json:"source"`
	OccurredAt string         `json:"occurred_at"`
	Data       map[string]any `json:"data"`
}

// fixtureLines is n deterministic JSONL events about n/10 firms, as bureaus
// send them: registrations, partial updates out of order, spot checks,
// penalties and licences, plus about 2 % exact resends, 0.5 % conflicting
// reuses of an id and 0.5 % broken lines.
func fixtureLines(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	firms := max(n/10, 1)
	lines := make([][]byte, 0, n)
	for i := 0; len(lines) < n; i++ {
		var line []byte
		switch r := rng.IntN(1000); {
		case r < 20 && len(lines) > 0:
			line = lines[rng.IntN(len(lines))]
		case r < 25 && len(lines) > 0:
			line = conflicting(lines[rng.IntN(len(lines))])
		case r < 30:
			line = []byte(fmt.Sprintf(`{"id":"320830-x%d","type":`, i))
		default:
			line = mustJSON(fixtureEvent(rng, i, firms))
		}
		lines = append(lines, line)
	}
	return lines
}

// fixtureUSCCPrefix is the first 16 characters of firm f's USCC.
func fixtureUSCCPrefix(f int) string {
	return fmt.Sprintf("91%sMA%06d", fixtureRegions[f%len(fixtureRegions)], f)
}

func fixtureEvent(rng *rand.Rand, i, firms int) wireEvent {
	f := rng.IntN(firms)
	region := fixtureRegions[f%len(fixtureRegions)]
	e := wireEvent{
		ID:         fmt.Sprintf("%s-%d", region, i),
		USCC:       string(model.CompleteUSCC(fixtureUSCCPrefix(f))),
		Source:     region,
		OccurredAt: fixtureEpoch.Add(time.Duration(rng.IntN(3*365*24)) * time.Hour).Format(time.RFC3339),
	}
	switch k := rng.IntN(10); {
	case i < firms || k == 0:
		e.Type = string(model.EventEnterpriseRegistered)
		e.Data = map[string]any{"name": fmt.Sprintf("淮安市第%d制造有限公司 & Co", f), "region": region,
			"industry": "C3831", "scale": fixtureScales[rng.IntN(4)]}
	case k == 1:
		e.Type = string(model.EventEnterpriseUpdated)
		e.Data = map[string]any{"name": fmt.Sprintf("淮安市第%d制造股份有限公司(更名%d)", f, i), "cluster": "huaian-cable"}
	case k < 6:
		e.Type = string(model.EventSpotCheckCompleted)
		e.Data = map[string]any{"check_id": fmt.Sprintf("CHK-%d", i), "product": fixtureProducts[rng.IntN(len(fixtureProducts))], "result": "pass"}
		if rng.IntN(5) == 0 {
			e.Data["result"], e.Data["severity"] = "fail", "major"
		}
	case k < 8:
		e.Type = string(model.EventPenaltyDecided)
		e.Data = map[string]any{"case_no": fmt.Sprintf("淮市监罚〔2024〕%d号", i), "violation": "substandard",
			"severity": "general", "fine_yuan": float64(rng.IntN(100000)) + 0.5}
	default:
		e.Type = string(model.EventLicenceGranted)
		e.Data = map[string]any{"licence_no": fmt.Sprintf("XK06-%d", i), "kind": "industrial_product",
			"valid_until": fixtureEpoch.AddDate(5, 0, rng.IntN(365)).Format(time.DateOnly)}
	}
	return e
}

// conflicting is another event under line's id: same id, different content.
func conflicting(line []byte) []byte {
	var e wireEvent
	if json.Unmarshal(line, &e) != nil {
		return line
	}
	e.OccurredAt = fixtureEpoch.Add(-24 * time.Hour).Format(time.RFC3339)
	return mustJSON(e)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(err.Error()) // a broken line, dead-lettered like any other
	}
	return b
}
