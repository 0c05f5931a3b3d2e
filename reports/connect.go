package reports

import (
	"slices"

	"github.com/kdrill/kdrill/model"
)

// connectMatrix is a connect step's probes as a table: a row per source
// pod, a column per destination, each cell what was expected and what was
// observed.
type connectMatrix struct {
	Targets []string
	Rows    []connectRow
}

type connectRow struct {
	From  string
	Cells []connectCell
}

type connectCell struct {
	Probed                     bool
	OK                         bool
	NA                         bool // not applicable on this cluster
	Expected, Observed, Reason string
	Address                    string
}

// connectMatrixOf draws a connect step's output, live or read back from
// results.json; nil for other kinds, or a connect step that probed nothing.
func connectMatrixOf(st *model.StepResult) *connectMatrix {
	var out model.ConnectOutput
	if st.Kind != "connect" || st.Output == nil || model.DecodeOutput(st.Output, &out) != nil || len(out.Probes) == 0 {
		return nil
	}
	m := &connectMatrix{}
	var froms []string
	for _, p := range out.Probes {
		if !slices.Contains(m.Targets, p.Target) {
			m.Targets = append(m.Targets, p.Target)
		}
		if !slices.Contains(froms, p.From) {
			froms = append(froms, p.From)
		}
	}
	for _, from := range froms {
		row := connectRow{From: from, Cells: make([]connectCell, len(m.Targets))}
		for _, p := range out.Probes {
			if p.From == from {
				i := slices.Index(m.Targets, p.Target)
				row.Cells[i] = connectCell{Probed: true, OK: p.Expected == p.Observed, NA: p.Observed == string(model.NotApplicable), Expected: p.Expected, Observed: p.Observed, Reason: p.Reason, Address: p.Address}
			}
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}
