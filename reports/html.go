package reports

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/model"
)

// HTMLFile is the name of the HTML report in a report directory.
const HTMLFile = "report.html"

//go:embed report.html.tmpl
var htmlTemplate string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"seconds": func(s float64) string { return seconds(s) },
	"stamp":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"value":   expression.FormatValue,
	"attempt": func(i int) int { return i + 1 },
	"lasted":  func(a, b time.Time) string { return seconds(b.Sub(a).Seconds()) },
}).Parse(htmlTemplate))

// htmlReport is what the template renders.
type htmlReport struct {
	*model.Results
	Counts    []outcomeCount
	Flaky     int
	Scenarios []htmlScenario
	Matrices  []htmlMatrix
	Clusters  *htmlClusters
}

// htmlClusters is a run over several clusters: a row per scenario, a
// column per cluster.
type htmlClusters struct {
	Names []string
	Rows  []htmlClusterRow
}

type htmlClusterRow struct {
	Scenario string
	Cells    []htmlClusterCell
}

type htmlClusterCell struct {
	Outcome model.Outcome
	Anchor  string
}

// htmlMatrix is a scenario run over a matrix: a row per instance, with
// its values, outcome and key metrics, so one size's regression stands out
// beside the others.
type htmlMatrix struct {
	Name    string
	Vars    []string
	Metrics []string
	Rows    []htmlMatrixRow
}

type htmlMatrixRow struct {
	Scenario string
	// Anchor is the id of the instance's section.
	Anchor  string
	Outcome model.Outcome
	Values  []string
	Metrics []string
}

type outcomeCount struct {
	Outcome model.Outcome
	Count   int
}

type htmlScenario struct {
	*model.ScenarioResult
	Bars   []timelineBar
	Charts []htmlChart
	// Faults is what each fault cost, from the scenario's monitor.
	Faults []model.FaultImpact
}

// timelineBar places a step on the scenario's Gantt chart, in percent of
// the scenario's duration.
type timelineBar struct {
	Step         *model.StepResult
	Left, Width  float64
	Label        string
	ValueEntries []valueEntry
	// Connect is a connect step's matrix of probes.
	Connect *connectMatrix
}

type valueEntry struct {
	Path  string
	Value any
}

type htmlChart struct {
	Title   string
	DataURI template.URL
}

// WriteHTML renders the results as one self-contained HTML page: charts are
// embedded as data URIs, nothing is loaded from elsewhere, and everything
// that came from the cluster is escaped by html/template.
func WriteHTML(w io.Writer, r *model.Results) error {
	charts, err := AvailabilityCharts(r)
	if err != nil {
		return err
	}
	return writeHTML(w, r, charts)
}

// writeHTML renders the page with charts already drawn.
func writeHTML(w io.Writer, r *model.Results, charts []Chart) error {
	metrics := Metrics(r)
	doc := buildHTMLReport(r, charts)
	doc.Matrices = matrices(r.Scenarios, metrics)
	doc.Clusters = byCluster(r.Scenarios)
	return reportTemplate.Execute(w, doc)
}

// WriteHTMLFile writes report.html into dir atomically.
func WriteHTMLFile(dir string, r *model.Results) (string, error) {
	charts, err := AvailabilityCharts(r)
	if err != nil {
		return "", err
	}
	return writeHTMLFile(dir, r, charts)
}

func writeHTMLFile(dir string, r *model.Results, charts []Chart) (string, error) {
	var buf bytes.Buffer
	if err := writeHTML(&buf, r, charts); err != nil {
		return "", err
	}
	path := filepath.Join(dir, HTMLFile)
	return path, writeAtomic(path, buf.Bytes())
}

func buildHTMLReport(r *model.Results, charts []Chart) htmlReport {
	doc := htmlReport{Results: r}
	counts := map[model.Outcome]int{}
	for _, s := range r.Scenarios {
		counts[s.Outcome]++
		hs := htmlScenario{ScenarioResult: s}
		total := s.FinishedAt.Sub(s.StartedAt).Seconds()
		for _, st := range s.Steps {
			bar := timelineBar{Step: st, Label: st.Name, Connect: connectMatrixOf(st)}
			if st.Phase == model.PhaseFinally {
				bar.Label = "finally: " + st.Name
			}
			if total > 0 && !st.StartedAt.IsZero() {
				bar.Left = 100 * st.StartedAt.Sub(s.StartedAt).Seconds() / total
				bar.Width = max(0.4, 100*st.DurationSeconds/total)
				bar.Left = min(bar.Left, 99.6)
				bar.Width = min(bar.Width, 100-bar.Left)
			}
			keys := slices.Sorted(maps.Keys(st.Values))
			for _, k := range keys {
				bar.ValueEntries = append(bar.ValueEntries, valueEntry{k, st.Values[k]})
			}
			hs.Bars = append(hs.Bars, bar)
			if out, err := st.DecodedOutput(); err == nil && hs.Faults == nil {
				if m, ok := out.(*model.MonitorOutput); ok {
					hs.Faults = m.Faults
				}
			}
		}
		for _, c := range charts {
			// The page draws its own, interactive timeline; the PNG is for
			// places that show images only.
			if c.Scenario == s.Name && !strings.HasPrefix(c.File, "timeline-") {
				hs.Charts = append(hs.Charts, htmlChart{
					Title: c.Title,
					// kdrill's own PNG, base64-encoded: nothing from the cluster.
					DataURI: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG)), //nolint:gosec // G203: see above
				})
			}
		}
		doc.Scenarios = append(doc.Scenarios, hs)
	}
	for _, o := range []model.Outcome{model.Passed, model.Failed, model.Errored, model.Cancelled, model.Skipped, model.NotApplicable} {
		if counts[o] > 0 {
			doc.Counts = append(doc.Counts, outcomeCount{o, counts[o]})
		}
	}
	doc.Flaky = flakyCount(r)
	return doc
}

// matrices groups a matrix's instances, in run order, with the metrics
// that compare them: the duration and what the steps' outputs measured.
func matrices(scenarios []*model.ScenarioResult, metrics []Metric) []htmlMatrix {
	var out []htmlMatrix
	index := map[string]int{}
	for n, s := range scenarios {
		if len(s.Instance) == 0 {
			continue
		}
		base, _, _ := strings.Cut(s.Name, "[")
		i, ok := index[base]
		if !ok {
			vars := slices.Sorted(maps.Keys(s.Instance))
			i = len(out)
			index[base] = i
			out = append(out, htmlMatrix{Name: base, Vars: vars})
		}
		m := &out[i]
		row := htmlMatrixRow{Scenario: s.Name, Anchor: fmt.Sprintf("run-%d", n), Outcome: s.Outcome}
		for _, k := range m.Vars {
			row.Values = append(row.Values, expression.FormatValue(s.Instance[k]))
		}
		m.Rows = append(m.Rows, row)
	}
	for i := range out {
		m := &out[i]
		values := map[string]map[string]string{}
		for _, x := range metrics {
			key := x.Name == "duration" || (strings.HasPrefix(x.Name, "steps[") && !strings.HasSuffix(x.Name, "].duration"))
			if !key || !strings.HasPrefix(x.Scenario, m.Name+"[") {
				continue
			}
			if values[x.Name] == nil {
				values[x.Name] = map[string]string{}
				m.Metrics = append(m.Metrics, x.Name)
			}
			values[x.Name][x.Scenario] = formatMetric(x)
		}
		for j := range m.Rows {
			for _, name := range m.Metrics {
				m.Rows[j].Metrics = append(m.Rows[j].Metrics, values[name][m.Rows[j].Scenario])
			}
		}
	}
	return out
}

// byCluster lays out a run over several clusters as a table, or returns
// nil for a run on one.
func byCluster(scenarios []*model.ScenarioResult) *htmlClusters {
	t := &htmlClusters{}
	col, row := map[string]int{}, map[string]int{}
	type cell struct {
		row, col int
		htmlClusterCell
	}
	var cells []cell
	for n, s := range scenarios {
		if s.Cluster == "" {
			continue
		}
		name := strings.TrimSuffix(s.Name, "@"+s.Cluster)
		c, ok := col[s.Cluster]
		if !ok {
			c = len(t.Names)
			col[s.Cluster] = c
			t.Names = append(t.Names, s.Cluster)
		}
		r, ok := row[name]
		if !ok {
			r = len(t.Rows)
			row[name] = r
			t.Rows = append(t.Rows, htmlClusterRow{Scenario: name})
		}
		cells = append(cells, cell{r, c, htmlClusterCell{Outcome: s.Outcome, Anchor: fmt.Sprintf("run-%d", n)}})
	}
	if len(t.Names) == 0 {
		return nil
	}
	for i := range t.Rows {
		t.Rows[i].Cells = make([]htmlClusterCell, len(t.Names))
	}
	for _, c := range cells {
		t.Rows[c.row].Cells[c.col] = c.htmlClusterCell
	}
	return t
}
