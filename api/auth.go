package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
)

// Caller is who makes a request: a key's name, scope and region, or the
// anonymous public (Key "").
type Caller struct {
	Key   string
	Scope Scope
	// Region binds the key (ingest, analyst): 320800, the city, covers
	// every county; a county code itself only; "" is unbound (city-wide).
	Region string
}

// Covers reports whether the caller may see or report region (a county
// code or 320800): an unbound caller every region, a bound one its own
// region and, for the city, every county in it.
func (c Caller) Covers(region string) bool {
	return c.Region == "" || c.Region == model.CityHuaian || serving.InRegion(region, c.Region)
}

const callerKey = "qcredit.caller"

// devSessionKey names the dev session's caller in the audit log.
const devSessionKey = "dev-session"

// caller is the request's caller, set by authorize.
func caller(c *gin.Context) Caller {
	v, _ := c.Get(callerKey)
	cl, _ := v.(Caller)
	return cl
}

// Error codes of authorize.
const (
	codeUnauthenticated = "unauthenticated" // no key on a route that needs one
	codeInvalidKey      = "invalid_key"     // not a key, or not one we know
	codeKeyRevoked      = "key_revoked"
	codeKeyExpired      = "key_expired"
	codeForbidden       = "forbidden" // the key's scope is not one the route accepts
	codeRateLimited     = "rate_limited"
)

// authorize checks the caller's key against the route's scopes, limits
// anonymous and public-key calls to public routes, and audits every call
// made with a key of another scope.
//
//   - no key: public routes only (401 elsewhere);
//   - a key that is malformed, unknown, revoked or expired: 401, on every
//     route (a caller who sends a key means to use it);
//   - a key whose scope the route does not accept: 403;
//   - public routes take any valid key; they are rate-limited per client
//     address without one and per key name with a public-scope key.
func (s *Server) authorize(scopes []Scope) gin.HandlerFunc {
	isPublic := slices.Contains(scopes, ScopePublic)
	accepts := strings.Join(scopesText(scopes), " or ")
	return func(c *gin.Context) {
		cl, ok := s.authenticate(c, isPublic)
		if !ok {
			return
		}
		c.Set(callerKey, cl)
		audited := cl.Key != "" && cl.Scope != ScopePublic
		start := time.Now()
		if audited {
			defer func() { s.audit.record(c, cl, start) }()
		}
		if !isPublic && !slices.Contains(scopes, cl.Scope) {
			abort(c, http.StatusForbidden, codeForbidden,
				fmt.Sprintf("this route needs a key with scope %s; key %s has scope %s", accepts, cl.Key, cl.Scope))
			return
		}
		if isPublic && !audited && !s.allowPublic(c, cl) {
			return
		}
		c.Next()
	}
}

func scopesText(scopes []Scope) []string {
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		out[i] = string(sc)
	}
	return out
}

// authenticate reads the Authorization header. It answers 401 itself.
func (s *Server) authenticate(c *gin.Context, isPublic bool) (Caller, bool) {
	h := c.GetHeader("Authorization")
	if h == "" {
		if isPublic {
			return Caller{Scope: ScopePublic}, true
		}
		if s.dev.admits(c.Request) { // qcredit dev's dashboards: scope analyst (devSession)
			return Caller{Key: devSessionKey, Scope: ScopeAnalyst}, true
		}
		unauthorized(c, codeUnauthenticated, "this route needs an API key: send Authorization: Bearer <key>")
		return Caller{}, false
	}
	presented, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		unauthorized(c, codeInvalidKey, "the Authorization header must read Bearer <key>")
		return Caller{}, false
	}
	k, err := s.keys.current().check(strings.TrimSpace(presented), s.now())
	switch {
	case errors.Is(err, errKeyRevoked):
		unauthorized(c, codeKeyRevoked, "API key "+k.Name+" was revoked: ask the bureau for a new one")
		return Caller{}, false
	case errors.Is(err, errKeyExpired):
		unauthorized(c, codeKeyExpired, "API key "+k.Name+" has expired: ask the bureau for a new one")
		return Caller{}, false
	case err != nil:
		unauthorized(c, codeInvalidKey, "unknown API key (keys read qck_…; ask the bureau for one)")
		return Caller{}, false
	}
	return Caller{Key: k.Name, Scope: Scope(k.Scope), Region: k.Source}, true
}

func unauthorized(c *gin.Context, code, message string) {
	errText := "invalid_token"
	if code == codeUnauthenticated {
		errText = "invalid_request"
	}
	c.Header("WWW-Authenticate", `Bearer realm="qcredit", error="`+errText+`"`)
	abort(c, http.StatusUnauthorized, code, message)
}

// allowPublic applies the public rate limit: per key with a public key,
// per client address without one.
func (s *Server) allowPublic(c *gin.Context, cl Caller) bool {
	client := "key:" + cl.Key
	if cl.Key == "" {
		client = clientKey(c.ClientIP())
	}
	ok, wait := s.public.Allow(client)
	if !ok {
		c.Header("Retry-After", retryAfter(wait))
		abort(c, http.StatusTooManyRequests, codeRateLimited,
			fmt.Sprintf("more than %g requests a second (bursts of %d) from one client: retry after %s s",
				s.opts.PublicRate.PerSecond, s.opts.PublicRate.Burst, retryAfter(wait)))
	}
	return ok
}

// keyRing holds the loaded keys and reloads them from the warehouse.
type keyRing struct {
	store KeyStore
	cur   atomic.Pointer[keySet]
}

func (r *keyRing) current() *keySet { return r.cur.Load() }

// ReloadKeys reads the keys from the warehouse now. The server does it every
// KeyRefresh; a process that created or revoked a key calls it so the change
// holds at once.
func (s *Server) ReloadKeys(ctx context.Context) error {
	recs, err := s.keys.store.KeyRecords(ctx)
	if err != nil {
		return fmt.Errorf("reload keys: %w", err)
	}
	s.keys.cur.Store(newKeySet(recs))
	return nil
}

// refreshKeys reloads the keys every KeyRefresh until ctx ends; a failed
// reload keeps the keys loaded before.
func (s *Server) refreshKeys(ctx context.Context) {
	t := time.NewTicker(s.opts.KeyRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.ReloadKeys(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("keys not reloaded; the loaded ones stay in force", "err", err)
		}
	}
}
