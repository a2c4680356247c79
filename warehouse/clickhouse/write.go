package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// BulkBatch: ClickHouse 18.16 took 1M events at 173-181k/s in batches of
// 122,880 and 146-158k/s in batches of 245,760, measured in the same runs.
func (s *Store) BulkBatch() int { return 122_880 }

// Write stores a batch; see warehouse.Store.
//
// ClickHouse has no transactions, so Write is idempotent instead of atomic:
// it reads which ids (and dead-letter keys) are already stored, then inserts
// only the rest, events first. A batch retried after a crash at any point
// finds what the failed attempt stored and counts it as duplicates, so
// nothing is stored twice by retries. Only two writers racing on the same
// ids (a Kafka rebalance handing a partition over mid-batch) can insert a row
// twice; then the ReplacingMergeTree key and dedupe on read still count it
// once (see the package doc).
func (s *Store) Write(ctx context.Context, b warehouse.Batch) (warehouse.WriteResult, error) {
	p := warehouse.Prepare(b)
	res := warehouse.WriteResult{Duplicates: p.Duplicates, Conflicts: p.Conflicts}
	s.writeM.Lock()
	defer s.writeM.Unlock()

	start := time.Now()
	fresh, dups, conflicts, err := s.classify(ctx, p.Items)
	if err != nil {
		return res, err
	}
	res.Duplicates += dups
	res.Conflicts += len(conflicts)
	for _, dl := range conflicts {
		p.AddDeadLetter(dl)
	}
	fresh, refused, err := s.checkRetractions(ctx, fresh)
	if err != nil {
		return res, err
	}
	for _, dl := range refused {
		p.AddDeadLetter(dl)
	}
	if err := s.insertEvents(ctx, fresh); err != nil {
		return res, err
	}
	res.Stored = len(fresh)
	inserted := time.Now()

	n, err := s.insertDeadLetters(ctx, p.DeadLetters)
	if err != nil {
		return res, err
	}
	res.DeadLettered = n
	res.DeadLetterRepeats = len(p.DeadLetters) - n
	s.log.Debug("batch written", "items", len(b.Items), "stored", res.Stored,
		"events_took", inserted.Sub(start), "dead_letters_took", time.Since(inserted))
	return res, nil
}

// classify splits items (unique ids, from warehouse.Prepare) into those not
// yet stored, exact resends of stored events, and conflicts with them.
func (s *Store) classify(ctx context.Context, items []warehouse.Item) ([]warehouse.Item, int, []model.DeadLetter, error) {
	if len(items) == 0 {
		return nil, 0, nil, nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.Record.ID
	}
	stored, err := s.storedValues(ctx, "events", "id", "hash", ids)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("find stored ids: %w", err)
	}
	fresh := make([]warehouse.Item, 0, len(items))
	var dups int
	var conflicts []model.DeadLetter
	for _, it := range items {
		hashes, ok := stored[it.Record.ID]
		switch {
		case !ok:
			fresh = append(fresh, it)
		case slices.Contains(hashes, it.Record.Hash):
			dups++
		default:
			conflicts = append(conflicts, warehouse.ConflictLetter(it))
		}
	}
	return fresh, dups, conflicts, nil
}

// checkRetractions keeps the items that may be stored: retractions only of
// stored (or batched) events of their bureau and enterprise
// (warehouse.CheckRetractions).
func (s *Store) checkRetractions(ctx context.Context, items []warehouse.Item) ([]warehouse.Item, []model.DeadLetter, error) {
	targets := warehouse.RetractionTargets(items)
	if len(targets) == 0 {
		return items, nil, nil
	}
	ext, err := ext.NewTable("retracted_ids", ext.Column("k", "String"))
	if err != nil {
		return nil, nil, err
	}
	for _, t := range targets {
		if err := ext.Append(t); err != nil {
			return nil, nil, err
		}
	}
	rows, err := s.conn.Query(ch.Context(ctx, ch.WithExternalTable(ext)), `SELECT id, type, source, uscc FROM `+s.table("events")+
		` WHERE id GLOBAL IN (SELECT k FROM retracted_ids)`)
	if err != nil {
		return nil, nil, fmt.Errorf("find retracted events: %w", err)
	}
	defer rows.Close()
	stored := map[string]warehouse.EventRef{}
	for rows.Next() {
		var id, typ, source, uscc string
		if err := rows.Scan(&id, &typ, &source, &uscc); err != nil {
			return nil, nil, fmt.Errorf("find retracted events: %w", err)
		}
		stored[id] = warehouse.EventRef{Type: model.EventType(typ), Source: source, USCC: model.USCC(uscc)}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("find retracted events: %w", err)
	}
	kept, refused := warehouse.CheckRetractions(items, stored)
	return kept, refused, nil
}

// storedValues returns, for each of keys already in table, the values of
// column stored with it (more than one only if a race stored it twice).
// The keys travel as an external table rather than an IN list in the query
// text, which would outgrow max_query_size (256 KiB) at a few thousand ids;
// GLOBAL IN ships them to every shard when table is Distributed.
func (s *Store) storedValues(ctx context.Context, table, keyCol, valCol string, keys []string) (map[string][]uint64, error) {
	ext, err := ext.NewTable("batch_keys", ext.Column("k", "String"))
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := ext.Append(k); err != nil {
			return nil, err
		}
	}
	q := fmt.Sprintf(`SELECT %[2]s, %[3]s FROM %[1]s WHERE %[2]s GLOBAL IN (SELECT k FROM batch_keys)`,
		s.table(table), keyCol, valCol)
	rows, err := s.conn.Query(ch.Context(ctx, ch.WithExternalTable(ext)), q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]uint64{}
	for rows.Next() {
		var k string
		var v uint64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = append(out[k], v)
	}
	return out, rows.Err()
}

// insertCtx makes an insert into a Distributed table return only once the
// shards have the rows, so the next batch's classify sees them.
func (s *Store) insertCtx(ctx context.Context) context.Context {
	if s.schema.Cluster == "" {
		return ctx
	}
	return ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_distributed_sync": 1}))
}

const eventColumns = `id, type, uscc, source, occurred_at, reported_at, ref, link, result, severity,
	category, amount, due, data, hash, origin, ingested_at, ingested_us`

// insertEvents sends the items as one insert: the batcher hands over
// thousands of rows, what ClickHouse wants per insert.
func (s *Store) insertEvents(ctx context.Context, items []warehouse.Item) error {
	if len(items) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), fmt.Sprintf("INSERT INTO %s (%s)", s.table("events"), eventColumns))
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	defer batch.Abort()
	now := s.stamp()
	for _, it := range items {
		r := it.Record
		if err := batch.Append(r.ID, string(r.Type), string(r.USCC), r.Source, r.OccurredAt, r.ReportedAt,
			r.Facets.Ref, r.Facets.Link, r.Facets.Result, r.Facets.Severity, r.Facets.Category,
			r.Facets.Amount, dueDate(r.Facets.Due), string(r.Data), r.Hash, it.Origin.String(), now, uint64(now.UnixMicro())); err != nil {
			return fmt.Errorf("insert events: event %s: %w", r.ID, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// stamp is the ingested_at of the write under way: now, but always after the
// previous write's, so this process's stamps rise in commit order and a
// run's watermark never lies above a batch it could not see. (Several
// processes writing at once stamp with their own clocks: see the README on
// watermarks.) Callers hold writeM.
func (s *Store) stamp() time.Time {
	t := time.Now().Truncate(time.Microsecond)
	if !t.After(s.lastStamp) {
		t = s.lastStamp.Add(time.Microsecond)
	}
	s.lastStamp = t
	return t
}

// dueDate is the Date to store: midnight UTC of the day, which the driver
// turns into the day number; nil when absent or unreadable (as in DuckDB).
func dueDate(d string) *time.Time {
	if d == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return nil
	}
	return &t
}

// insertDeadLetters stores each letter's origin unless known, then the
// letters whose key is not stored yet, once per key, and returns how many
// of those. Origins go first: a retry after a crash between the two finds
// the origins stored and still stores the letter, while a letter is never
// listed without the origin it came from.
func (s *Store) insertDeadLetters(ctx context.Context, letters []warehouse.KeyedDeadLetter) (int, error) {
	if len(letters) == 0 {
		return 0, nil
	}
	keys := make([]string, len(letters))
	for i, dl := range letters {
		keys[i] = dl.Key
	}
	if err := s.insertOrigins(ctx, letters, keys); err != nil {
		return 0, err
	}
	stored, err := s.storedValues(ctx, "dead_letters", "key", "toUInt64(0)", keys)
	if err != nil {
		return 0, fmt.Errorf("find stored dead letters: %w", err)
	}
	seen := make(map[string]bool, len(letters))
	var fresh []warehouse.KeyedDeadLetter
	for _, dl := range letters {
		if _, ok := stored[dl.Key]; ok || seen[dl.Key] {
			continue
		}
		seen[dl.Key] = true
		fresh = append(fresh, dl)
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), fmt.Sprintf(`INSERT INTO %s
		(key, reason, detail, event_id, source, raw, received_at, origin_kind, origin_name, origin_position)`, s.table("dead_letters")))
	if err != nil {
		return 0, fmt.Errorf("insert dead letters: %w", err)
	}
	defer batch.Abort()
	for _, dl := range fresh {
		if err := batch.Append(dl.Key, string(dl.Reason), dl.Detail, dl.EventID, dl.Source, string(dl.Raw), dl.Received,
			dl.Origin.Kind, dl.Origin.Name, dl.Origin.Position); err != nil {
			return 0, fmt.Errorf("insert dead letters: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return 0, fmt.Errorf("insert dead letters: %w", err)
	}
	return len(fresh), nil
}

// insertOrigins stores the origins of letters not stored yet, once each.
func (s *Store) insertOrigins(ctx context.Context, letters []warehouse.KeyedDeadLetter, keys []string) error {
	known, err := s.storedOrigins(ctx, keys)
	if err != nil {
		return fmt.Errorf("find stored dead-letter origins: %w", err)
	}
	var fresh []warehouse.KeyedDeadLetter
	for _, dl := range letters {
		k := originKey{dl.Key, dl.Origin}
		if known[k] {
			continue
		}
		known[k] = true
		fresh = append(fresh, dl)
	}
	if len(fresh) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), fmt.Sprintf(`INSERT INTO %s
		(key, origin_kind, origin_name, origin_position, received_at)`, s.table("dead_letter_origins")))
	if err != nil {
		return fmt.Errorf("insert dead-letter origins: %w", err)
	}
	defer batch.Abort()
	for _, dl := range fresh {
		if err := batch.Append(dl.Key, dl.Origin.Kind, dl.Origin.Name, dl.Origin.Position, dl.Received); err != nil {
			return fmt.Errorf("insert dead-letter origins: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert dead-letter origins: %w", err)
	}
	return nil
}

// originKey is one origin of one dead letter.
type originKey struct {
	key    string
	origin model.Origin
}

// storedOrigins returns the origins already stored for keys.
func (s *Store) storedOrigins(ctx context.Context, keys []string) (map[originKey]bool, error) {
	out := map[originKey]bool{}
	err := s.originsOf(ctx, keys, func(key string, o warehouse.DeadLetterOrigin) {
		out[originKey{key, o.Origin}] = true
	})
	return out, err
}

// originsOf calls each with every stored origin of keys. The keys travel as
// an external table, as in storedValues.
func (s *Store) originsOf(ctx context.Context, keys []string, each func(key string, o warehouse.DeadLetterOrigin)) error {
	ext, err := ext.NewTable("batch_keys", ext.Column("k", "String"))
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := ext.Append(k); err != nil {
			return err
		}
	}
	q := fmt.Sprintf(`SELECT key, origin_kind, origin_name, origin_position, min(received_at) FROM %s
		WHERE key GLOBAL IN (SELECT k FROM batch_keys) GROUP BY key, origin_kind, origin_name, origin_position`,
		s.table("dead_letter_origins"))
	rows, err := s.conn.Query(ch.Context(ctx, ch.WithExternalTable(ext)), q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var o warehouse.DeadLetterOrigin
		if err := rows.Scan(&key, &o.Kind, &o.Name, &o.Position, &o.Received); err != nil {
			return err
		}
		each(key, o)
	}
	return rows.Err()
}

// localName is the table that holds the rows: name itself on one server,
// name_local on every server of a cluster (ALTER … DELETE goes there).
func (s *Store) localName(name string) string {
	if s.schema.Cluster == "" {
		return name
	}
	return name + "_local"
}

// table is the qualified name queries and inserts use: the table itself on
// one server, the Distributed table over the shards on a cluster.
func (s *Store) table(name string) string { return s.schema.DB + "." + name }
