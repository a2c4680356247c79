package api

import (
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
)

// PublicPenalty is an administrative penalty as published (行政处罚信息公示)
// while within its publication period: the decision's public facts, never
// the event id, the inspectors or the complainant.
type PublicPenalty struct {
	DecidedOn     string   `json:"decided_on"`          // 处罚决定日期
	DecisionNo    string   `json:"decision_no"`         // 行政处罚决定书文号
	Authority     string   `json:"authority"`           // 作出决定机关
	AuthorityCode string   `json:"authority_code"`      // its GB/T 2260 code
	Violation     string   `json:"violation"`           // 违法行为类型
	Severity      string   `json:"severity"`            // 轻微, 一般, 较重
	FineYuan      *float64 `json:"fine_yuan,omitempty"` // 罚款金额, when the decision fines
	PublishedTill string   `json:"published_until"`     // the first day it is no longer published
}

// Public words of the contract's penalty enums; the same as the labels of
// lists/default.yaml, so a penalty reads alike on the lookup and the list.
var (
	violationWords = map[string]string{
		"counterfeit":       "生产、销售假冒产品",
		"substandard":       "生产、销售不合格产品",
		"unlicensed":        "未取得许可擅自生产",
		"false_labeling":    "产品标识不符合规定",
		"special_equipment": "特种设备安全违法行为",
		"metrology":         "计量违法行为",
		"obstruction":       "拒绝、阻碍监督检查",
		"other":             "其他违法行为",
	}
	severityWords = map[string]string{"light": "轻微", "general": "一般", "heavy": "较重"}
)

// authoritySuffix names a bureau after its region (320830 →
// 盱眙县市场监督管理局), as lists/default.yaml's authority_suffix does.
const authoritySuffix = "市场监督管理局"

// publicPenalties are uscc's penalties published today, from the read
// model.
func publicPenalties(m *serving.Model, uscc model.USCC, now time.Time) []PublicPenalty {
	out := []PublicPenalty{}
	for _, p := range m.Penalties(uscc, now.In(model.Shanghai).Format(time.DateOnly)) {
		authority := p.Authority
		if r, ok := model.LookupRegion(p.Authority); ok {
			authority = r.Name
		}
		violation, ok := violationWords[p.Violation]
		if !ok {
			violation = violationWords["other"]
		}
		out = append(out, PublicPenalty{DecidedOn: p.DecidedOn, DecisionNo: p.DecisionNo, Authority: authority + authoritySuffix,
			AuthorityCode: p.Authority, Violation: violation, Severity: severityWords[p.Severity], FineYuan: p.FineYuan,
			PublishedTill: p.PublishedUntil})
	}
	return out
}
