// Package metrics is every Prometheus metric the app exposes, in one place:
// what an operator can graph and alert on. The web handler and the Gmail
// client report to a *Metrics; main serves it on METRICS_ADDR, a listener
// of its own, never on the app's address. A nil *Metrics records nothing,
// for tests that do not look.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the app's metrics, registered on a registry of their own,
// with the Go runtime's and the process's.
type Metrics struct {
	registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	gmailCalls      *prometheus.CounterVec
	gmailDuration   *prometheus.HistogramVec
	gmailQuota      *prometheus.CounterVec
	signIns         *prometheus.CounterVec
	refreshes       *prometheus.CounterVec
	renewals        *prometheus.CounterVec
}

// New registers the app's metrics on a new registry.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gmailoauth_http_requests_total",
			Help: "Requests answered, by route pattern and HTTP status.",
		}, []string{"route", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gmailoauth_http_request_duration_seconds",
			Help:    "Time from a request to its status line, by route pattern; pages are rendered whole before it.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		gmailCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gmailoauth_gmail_calls_total",
			Help: `Calls to the Gmail API, by method and HTTP status ("0": no answer); each part of a batch counts as its method, the batch itself as "batch".`,
		}, []string{"method", "code"}),
		gmailDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gmailoauth_gmail_call_duration_seconds",
			Help:    "Time of an HTTP call to the Gmail API, by method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method"}),
		gmailQuota: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gmailoauth_gmail_quota_units_total",
			Help: "Gmail API quota units spent, by method, as Google counts them (messages.list 5, messages.get 5, users.getProfile 1).",
		}, []string{"method"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gmailoauth_sign_ins_total",
			Help: "Sign-ins that came back from Google, by outcome.",
		}, []string{"outcome"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gmailoauth_token_refreshes_total",
			Help: "Access tokens renewed with a refresh token, by outcome.",
		}, []string{"outcome"}),
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gmailoauth_silent_renewals_total",
			Help: "Silent re-authorizations (prompt=none) that came back from Google, by outcome.",
		}, []string{"outcome"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration,
		m.gmailCalls, m.gmailDuration, m.gmailQuota,
		m.signIns, m.refreshes, m.renewals,
	)
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// CacheStats is what the caches report: lookups by kind ("metadata" of the
// Gmail client's cache, "page" of the app's rendered inbox pages) and
// whether they hit, and the metadata cache's size now.
type CacheStats struct {
	Hits, Misses map[string]uint64
	Bytes        int64
}

// WatchCache reports the cache's counters, read from stats when scraped.
func (m *Metrics) WatchCache(stats func() CacheStats) {
	m.registry.MustRegister(&cacheCollector{stats: stats})
}

var (
	cacheLookupsDesc = prometheus.NewDesc("gmailoauth_cache_lookups_total",
		"Cache lookups, by kind (metadata: a message's headers; page: an inbox page rendered from them) and result.",
		[]string{"kind", "result"}, nil)
	cacheBytesDesc = prometheus.NewDesc("gmailoauth_cache_bytes",
		"Bytes the metadata cache holds, of its fixed ceiling.", nil, nil)
)

// cacheCollector turns CacheStats into metrics at each scrape, so that a
// lookup costs the caches a count under the lock they take anyway, not a
// metric update.
type cacheCollector struct{ stats func() CacheStats }

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cacheLookupsDesc
	ch <- cacheBytesDesc
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for kind, n := range s.Hits {
		ch <- prometheus.MustNewConstMetric(cacheLookupsDesc, prometheus.CounterValue, float64(n), kind, "hit")
	}
	for kind, n := range s.Misses {
		ch <- prometheus.MustNewConstMetric(cacheLookupsDesc, prometheus.CounterValue, float64(n), kind, "miss")
	}
	ch <- prometheus.MustNewConstMetric(cacheBytesDesc, prometheus.GaugeValue, float64(s.Bytes))
}

// Request records a request answered with status after took, by the route
// pattern that served it ("" when no route did, as for a cross-site POST
// refused before routing).
func (m *Metrics) Request(route string, status int, took time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "none"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route).Observe(took.Seconds())
}

// quotaUnits is what each Gmail method costs of the quota, from Google's
// "Usage limits" page. A batch costs what its parts cost.
var quotaUnits = map[string]float64{
	"messages.list":    5,
	"messages.get":     5,
	"users.getProfile": 1,
}

// GmailCall records an HTTP call to Gmail, or a part of a batch, that
// ended with status (0: no answer) after took (0 for a part: a batch's
// parts have no time of their own).
func (m *Metrics) GmailCall(method string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.gmailCalls.WithLabelValues(method, strconv.Itoa(status)).Inc()
	if took > 0 {
		m.gmailDuration.WithLabelValues(method).Observe(took.Seconds())
	}
	if units, ok := quotaUnits[method]; ok {
		m.gmailQuota.WithLabelValues(method).Add(units)
	}
}

// SignIn records how a sign-in that came back from Google ended.
func (m *Metrics) SignIn(outcome string) {
	if m != nil {
		m.signIns.WithLabelValues(outcome).Inc()
	}
}

// Refresh records how a renewal with a refresh token ended.
func (m *Metrics) Refresh(outcome string) {
	if m != nil {
		m.refreshes.WithLabelValues(outcome).Inc()
	}
}

// SilentRenewal records how a silent re-authorization ended.
func (m *Metrics) SilentRenewal(outcome string) {
	if m != nil {
		m.renewals.WithLabelValues(outcome).Inc()
	}
}
