package serving

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// ErrBadCursor says a watch feed cursor is not one the feed gave.
var ErrBadCursor = errors.New("not a cursor of the watch feed")

// FeedEvent is one listing change in the watch feed: a change of one
// version of one list, with the cursor just after it.
type FeedEvent struct {
	Cursor      string          `json:"cursor"`
	List        model.List      `json:"list"`
	Version     int64           `json:"version"`
	PublishedAt time.Time       `json:"published_at"`
	Op          model.ListOp    `json:"op"`
	USCC        model.USCC      `json:"uscc"`
	Key         string          `json:"key"`
	Entry       model.ListEntry `json:"entry"`
}

// FeedPage is the events after a cursor.
type FeedPage struct {
	Events []FeedEvent
	// Next is the cursor to ask with next: after the last event, or after
	// every version looked at when fewer than the limit matched.
	Next string
	// More says the limit cut the page short.
	More bool
}

// feedStep is one version of one list in the feed's order: by publication,
// then list (dishonest first), then version.
type feedStep struct {
	h       *ListHistory
	v       *listVersion
	listPos int
}

// The feed's cursor is "<list>.<version>.<n>": just after the first n
// changes (in key order) of that version of that list. "" is the start of
// the retained history. A cursor names a position, not an event, so it
// stays valid whatever firms a partner watches and replays the same events.
func feedCursor(l model.List, version int64, n int) string {
	return string(l) + "." + strconv.FormatInt(version, 10) + "." + strconv.Itoa(n)
}

// Feed is the changes of the firms watch accepts, after cursor, in
// publication order, at most limit. A cursor into versions no longer
// retained gives ErrNotRetained: pull the snapshots again and start from
// FeedEnd.
func (p *ListsPart) Feed(cursor string, watch func(model.USCC) bool, limit int) (FeedPage, error) {
	steps := p.feedSteps()
	s, n, err := p.position(steps, cursor)
	if err != nil {
		return FeedPage{}, err
	}
	page := FeedPage{Events: []FeedEvent{}, Next: cursor}
	for ; s < len(steps); s, n = s+1, 0 {
		st := steps[s]
		changes := st.h.changes[st.v.changes.off : st.v.changes.off+st.v.changes.len]
		for ; n < len(changes); n++ {
			if len(page.Events) == limit {
				page.More = true
				return page, nil
			}
			c := changes[n]
			e := st.h.arena.entry(c.rec)
			if !watch(e.USCC) {
				continue
			}
			page.Next = feedCursor(st.h.list, st.v.number, n+1)
			page.Events = append(page.Events, FeedEvent{Cursor: page.Next, List: st.h.list, Version: st.v.number,
				PublishedAt: time.UnixMicro(st.v.publishedAt).In(model.Shanghai), Op: c.op, USCC: e.USCC, Key: e.Key, Entry: e})
		}
		page.Next = feedCursor(st.h.list, st.v.number, len(changes))
	}
	return page, nil
}

// FeedEnd is the cursor after every retained change: where a new watcher
// (or a new webhook) starts.
func (p *ListsPart) FeedEnd() string {
	steps := p.feedSteps()
	if len(steps) == 0 {
		return ""
	}
	last := steps[len(steps)-1]
	return feedCursor(last.h.list, last.v.number, int(last.v.changes.len))
}

func (p *ListsPart) feedSteps() []feedStep {
	var steps []feedStep
	for i, l := range model.Lists {
		h := p.histories[l]
		if h == nil {
			continue
		}
		for j := range h.versions {
			if v := &h.versions[j]; j > 0 || v.number == 1 { // a later base's own changes are not retained
				steps = append(steps, feedStep{h: h, v: v, listPos: i})
			}
		}
	}
	slices.SortFunc(steps, func(a, b feedStep) int {
		return cmp.Or(cmp.Compare(a.v.publishedAt, b.v.publishedAt), cmp.Compare(a.listPos, b.listPos), cmp.Compare(a.v.number, b.v.number))
	})
	return steps
}

// position is where cursor points in steps: the step and how many of its
// changes are behind.
func (p *ListsPart) position(steps []feedStep, cursor string) (int, int, error) {
	if cursor == "" {
		for _, l := range model.Lists {
			if h := p.histories[l]; h != nil && h.versions[0].number != 1 {
				return 0, 0, fmt.Errorf("the start of the %s list's history: %w (retained from version %d): pull the snapshots and continue from cursor %s",
					l, ErrNotRetained, h.Earliest(), p.FeedEnd())
			}
		}
		return 0, 0, nil
	}
	parts := strings.Split(cursor, ".")
	if len(parts) != 3 {
		return 0, 0, fmt.Errorf("cursor %q: %w", cursor, ErrBadCursor)
	}
	l := model.List(parts[0])
	version, err1 := strconv.ParseInt(parts[1], 10, 64)
	n, err2 := strconv.Atoi(parts[2])
	h := p.histories[l]
	if err1 != nil || err2 != nil || h == nil || n < 0 || version > h.versions[len(h.versions)-1].number {
		return 0, 0, fmt.Errorf("cursor %q: %w", cursor, ErrBadCursor)
	}
	for i, st := range steps {
		if st.h == h && st.v.number == version {
			if n > int(st.v.changes.len) {
				return 0, 0, fmt.Errorf("cursor %q: %w", cursor, ErrBadCursor)
			}
			return i, n, nil
		}
	}
	// Older than the retained versions, or inside the base of a history
	// that starts later: its changes are gone.
	return 0, 0, fmt.Errorf("cursor %q: %w (the %s list is retained from version %d): pull the snapshots and continue from cursor %s",
		cursor, ErrNotRetained, l, h.Earliest(), p.FeedEnd())
}
