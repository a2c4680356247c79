package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/warehouse"
)

func newKeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list and revoke API keys",
		Long: `API keys go in Authorization: Bearer <key>. A key is shown once, when it is
created; the warehouse keeps only its SHA-256. Scopes: public (a named client
of the public routes), ingest (a bureau reporting events; --source is its
region), partner, analyst (--source binds it to a county), admin.

While serve or dev holds the DuckDB file these commands run inside it
through its admin socket, and the key holds there at once; other replicas
(ClickHouse) see a change within api.key_refresh (2 s).`,
	}
	cmd.AddCommand(newKeysCreateCmd(a), newKeysListCmd(a), newKeysRevokeCmd(a))
	return cmd
}

// keysCreateArgs is the request of `keys create`.
type keysCreateArgs struct {
	api.KeyRequest
}

// keyCreated is what the keys.create op answers: the key, once.
type keyCreated struct {
	Key  string      `json:"key"`
	Info api.KeyInfo `json:"info"`
}

func newKeysCreateCmd(a *app) *cobra.Command {
	var name, scope, source, expires string
	cmd := &cobra.Command{
		Use:   "create --name NAME --scope SCOPE [--source REGION] [--expires DATE]",
		Short: "Create a key and print it alone on stdout (it is shown only now)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := api.KeyRequest{Name: name, Scope: api.Scope(scope), Source: source}
			if expires != "" {
				t, err := api.ParseExpiry(expires)
				if err != nil {
					return err
				}
				q.Expires = t
			}
			if err := q.Validate(); err != nil {
				return err
			}
			var out bytes.Buffer
			if err := a.runOp(cmd, warehouse.OpenModeExisting, "keys.create", keysCreateArgs{q}, nil, &out); err != nil {
				return err
			}
			var got keyCreated
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				return fmt.Errorf("keys create: unreadable answer: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), got.Key)
			fmt.Fprintf(cmd.ErrOrStderr(), "created key %s (scope %s%s%s): store it now, it is not shown again\n",
				got.Info.Name, got.Info.Scope, boundText(got.Info.Source), expiryText(got.Info.ExpiresAt))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the key's name (a-z 0-9 . _ -), e.g. huaiyin-ingest")
	cmd.Flags().StringVar(&scope, "scope", "", "public, ingest, partner, analyst or admin")
	cmd.Flags().StringVar(&source, "source", "", "region the key is bound to: 320800 (the city: every county) or a 3208xx county; required for ingest keys")
	cmd.Flags().StringVar(&expires, "expires", "", "last day the key works (YYYY-MM-DD, Asia/Shanghai) or an RFC 3339 time; default never")
	cmd.MarkFlagRequired("name")
	cmd.MarkFlagRequired("scope")
	return cmd
}

func boundText(source string) string {
	if source == "" {
		return ""
	}
	return ", bound to " + source
}

func expiryText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ", until " + t.Format(time.DateTime)
}

// opKeysCreate stores a new key and answers it with its info as JSON.
func (a *app) opKeysCreate(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var q keysCreateArgs
	if err := json.Unmarshal(raw, &q); err != nil {
		return err
	}
	key, info, err := api.CreateKey(ctx, e.store, q.KeyRequest, time.Now())
	if err != nil {
		return err
	}
	if err := e.keysChanged(ctx); err != nil {
		return err
	}
	return json.NewEncoder(e.out).Encode(keyCreated{Key: key, Info: info})
}

// keysChanged makes the server running the op take a key change at once.
func (e *opEnv) keysChanged(ctx context.Context) error {
	if e.reloadKeys == nil {
		return nil
	}
	return e.reloadKeys(ctx)
}

// keysListArgs is the request of `keys list`.
type keysListArgs struct {
	JSON bool `json:"json"`
}

func newKeysListCmd(a *app) *cobra.Command {
	var q keysListArgs
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the keys (never the keys themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runOp(cmd, warehouse.OpenModeExisting, "keys.list", q, nil, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&q.JSON, "json", false, "print JSON")
	return cmd
}

func (a *app) opKeysList(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var q keysListArgs
	if err := json.Unmarshal(raw, &q); err != nil {
		return err
	}
	keys, err := api.ListKeys(ctx, e.store, time.Now())
	if err != nil {
		return err
	}
	if q.JSON {
		return writeJSON(e.out, keys)
	}
	w := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tID\tSCOPE\tSOURCE\tSTATUS\tCREATED\tEXPIRES\tREVOKED")
	for _, k := range keys {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.ID, k.Scope, dash(k.Source), k.Status,
			k.CreatedAt.Format(time.DateTime), timeOrDash(k.ExpiresAt), timeOrDash(k.RevokedAt))
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.DateTime)
}

// keysRevokeArgs is the request of `keys revoke`.
type keysRevokeArgs struct {
	Name string `json:"name"`
}

func newKeysRevokeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke the key called NAME: it stops working on every replica within seconds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runOp(cmd, warehouse.OpenModeExisting, "keys.revoke", keysRevokeArgs{Name: args[0]}, nil, cmd.ErrOrStderr())
		},
	}
}

func (a *app) opKeysRevoke(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var q keysRevokeArgs
	if err := json.Unmarshal(raw, &q); err != nil {
		return err
	}
	info, err := api.RevokeKey(ctx, e.store, q.Name, time.Now())
	if err != nil {
		return err
	}
	if err := e.keysChanged(ctx); err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.out, "revoked key %s (%s, created %s)\n", info.Name, info.Scope, info.CreatedAt.Format(time.DateTime))
	return err
}
