package api

import (
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: PerSecond requests a second on average, up
// to Burst at once.
type RateLimit struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}

// DefaultPublicRate is the public routes' limit per client address.
var DefaultPublicRate = RateLimit{PerSecond: 10, Burst: 50}

// RateLimiter keeps one token bucket per client (golang.org/x/time/rate:
// the Go team's token bucket, whose methods take the time as an argument,
// so tests drive it with their own clock). Buckets that have filled up again
// are forgotten, and past maxClients new clients share one bucket, so a
// flood of addresses cannot exhaust memory.
type RateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu        sync.Mutex
	clients   map[string]*rate.Limiter
	overflow  *rate.Limiter
	lastSweep time.Time
}

const maxClients = 100_000

// NewRateLimiter limits each client to l; now is the clock (time.Now when nil).
func NewRateLimiter(l RateLimit, now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	return &RateLimiter{limit: rate.Limit(l.PerSecond), burst: l.Burst, now: now,
		clients: map[string]*rate.Limiter{}, overflow: rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst)}
}

// Allow takes a token of client's bucket, or says how long until one is there.
func (cl *RateLimiter) Allow(client string) (bool, time.Duration) {
	now := cl.now()
	lim := cl.bucket(client, now)
	if lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - lim.TokensAt(now)
	if cl.limit <= 0 {
		return false, time.Hour
	}
	return false, time.Duration(missing / float64(cl.limit) * float64(time.Second))
}

func (cl *RateLimiter) bucket(client string, now time.Time) *rate.Limiter {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if lim, ok := cl.clients[client]; ok {
		return lim
	}
	if len(cl.clients) >= maxClients || now.Sub(cl.lastSweep) > time.Minute {
		cl.sweep(now)
	}
	if len(cl.clients) >= maxClients {
		return cl.overflow
	}
	lim := rate.NewLimiter(cl.limit, cl.burst)
	cl.clients[client] = lim
	return lim
}

// sweep forgets the buckets that are full: their clients are idle.
func (cl *RateLimiter) sweep(now time.Time) {
	for k, lim := range cl.clients {
		if lim.TokensAt(now) >= float64(cl.burst) {
			delete(cl.clients, k)
		}
	}
	cl.lastSweep = now
}

// retryAfter is a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// clientKey is the bucket of a client address: IPv4 addresses alone, IPv6
// ones by their /64 (what one subscriber usually gets).
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a.Is4() || a.Is4In6() {
		return a.Unmap().String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
