package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDocumentedAlertsUseTheseMetrics checks docs/alerts.yml and
// docs/prometheus.yml, the configuration docs/operations.md shows: promtool
// accepts them, and every gmailoauth_ metric the alerts name is one the app
// exposes, so a renamed metric cannot leave an alert that never fires.
func TestDocumentedAlertsUseTheseMetrics(t *testing.T) {
	m := New()
	m.WatchCache(func() CacheStats { return CacheStats{Hits: map[string]uint64{"metadata": 1}} })
	m.Request("GET /home", 200, time.Millisecond)
	m.GmailCall("messages.list", 200, time.Millisecond)
	m.SignIn("ok")
	m.Refresh("ok")
	m.SilentRenewal("ok")
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var exposed []string
	for _, f := range families {
		exposed = append(exposed, f.GetName())
	}

	docs := filepath.Join("..", "..", "docs")
	alerts, err := os.ReadFile(filepath.Join(docs, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`gmailoauth_[a-z_]+`).FindAllString(string(alerts), -1)
	if len(named) == 0 {
		t.Fatal("docs/alerts.yml names no gmailoauth_ metric")
	}
	for _, name := range named {
		base := name
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !slices.Contains(exposed, base) {
			t.Errorf("docs/alerts.yml uses %s; the app exposes no %s", name, base)
		}
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("REQUIRE_PROMTOOL") == "1" {
			t.Fatalf("promtool not found (REQUIRE_PROMTOOL=1): %v", err)
		}
		t.Skip("promtool not found (Debian's prometheus package): the documented configuration is not checked")
	}
	for _, check := range [][]string{{"check", "rules", "alerts.yml"}, {"check", "config", "prometheus.yml"}} {
		cmd := exec.Command(promtool, check...)
		cmd.Dir = docs
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(check, " "), err, out)
		}
	}
}
