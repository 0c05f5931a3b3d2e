package reports_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

// A connect step's probes are drawn as a matrix, a row per source pod and
// a column per destination, each cell what was observed against what was
// expected; names from the cluster are escaped.
func TestHTMLDrawsAConnectMatrix(t *testing.T) {
	r := sample()
	s := r.Scenarios[0]
	s.Steps = []*model.StepResult{{Name: "policy", Kind: "connect", Outcome: model.Failed, Output: &model.ConnectOutput{Probes: []model.ConnectProbe{
		{From: "client", Target: "service server:80", Address: "10.96.0.5:80", Expected: "allowed", Observed: "allowed"},
		{From: "client", Target: "pod server-0:9999", Address: "10.244.0.3:9999", Expected: "denied", Observed: "denied", Reason: "refused"},
		{From: hostile, Target: "service server:80", Address: "10.96.0.5:80", Expected: "denied", Observed: "allowed"},
		{From: "stranger", Target: "service server:80", Address: "10.96.0.5:80", Expected: "denied", Observed: "notApplicable", Reason: "this cluster does not enforce NetworkPolicy"},
	}}}}
	var buf bytes.Buffer
	if err := reports.WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		`<th>from \ to</th><th><code>service server:80</code></th><th><code>pod server-0:9999</code></th>`,
		`<tr><td><code>client</code></td><td><span class="badge passed" title="10.96.0.5:80: expected allowed, observed allowed">✓ allowed</span></td>`,
		`✓ denied</span> <span class="muted">refused</span>`,
		`✗ allowed</span> <span class="muted">expected denied</span></td><td><span class="muted">·</span></td>`,
		"&lt;script&gt;",
		// Not applicable is neither a pass nor a failure.
		`<span class="badge notApplicable" title="10.96.0.5:80: expected denied; this cluster does not enforce NetworkPolicy">○ not applicable</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("unescaped markup from the results reached the page")
	}
}
