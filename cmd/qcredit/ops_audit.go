package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qcredit/qcredit/warehouse"
)

// auditedOps are the operator's commands that change who may do what or
// what the public and partners see. Each run, done or refused, goes to the
// audit log beside the API's calls: key "operator", scope admin, method CLI,
// route the command, params its flags, status its exit code.
var auditedOps = map[string]bool{
	"keys.create": true, "keys.revoke": true, "pipeline.run": true,
	"lottery.create": true, "lottery.create-recheck": true, "lottery.create-assignment": true, "lottery.draw": true,
}

// audited runs fn and records it in the audit log when name is audited. A
// failed audit write fails the op (after its work: the log then says so),
// as an audit that silently misses a key's creation is no audit.
func audited(name string, fn opFunc) opFunc {
	if !auditedOps[name] {
		return fn
	}
	return func(ctx context.Context, e *opEnv, args json.RawMessage) error {
		start := time.Now()
		err := fn(ctx, e, args)
		rec := opAuditRecord(name, args, start, err)
		aerr := e.store.AppendAudit(context.WithoutCancel(ctx), []warehouse.AuditRecord{rec})
		switch {
		case aerr == nil:
			return err
		case err == nil:
			return fmt.Errorf("%s was done, but its audit record was not written: %w", name, aerr)
		default:
			return fmt.Errorf("%w (and its audit record was not written: %v)", err, aerr)
		}
	}
}

func opAuditRecord(name string, args json.RawMessage, start time.Time, err error) warehouse.AuditRecord {
	var id [12]byte
	rand.Read(id[:])
	return warehouse.AuditRecord{ID: hex.EncodeToString(id[:]), At: start, Key: "operator", Scope: "admin",
		Method: "CLI", Route: "qcredit " + strings.ReplaceAll(name, ".", " "), Params: opAuditParams(args),
		Status: opStatus(err), Items: -1, Detail: "{}", DurationMS: time.Since(start).Milliseconds()}
}

// opStatus is the exit code the command ends with.
func opStatus(err error) int {
	if err == nil {
		return 0
	}
	return exitCode(err)
}

// opAuditParams flattens an op's request into the audit's string map: the
// fields of nested objects at the top, values as JSON text unless strings,
// empty ones left out. No op's request holds a secret.
func opAuditParams(args json.RawMessage) string {
	out := map[string]string{}
	var flatten func(m map[string]any)
	flatten = func(m map[string]any) {
		for k, v := range m {
			switch v := v.(type) {
			case map[string]any:
				flatten(v)
			case string:
				if v != "" {
					out[k] = v
				}
			case nil:
			default:
				b, _ := json.Marshal(v)
				out[k] = string(b)
			}
		}
	}
	var m map[string]any
	if json.Unmarshal(args, &m) == nil {
		flatten(m)
	}
	b, _ := json.Marshal(out)
	return string(b)
}
