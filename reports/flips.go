package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/kdrill/kdrill/model"
)

// Flip is a scenario whose verdict changed across runs of the same inputs
// (its file and includes, by digest, and its vars), or that passed only on
// a retry: a flaky scenario, not a regression.
type Flip struct {
	Scenario string
	// Runs counts the runs with these inputs; Passed, Flaky and Failed
	// their verdicts (Flaky ones are not counted in Passed).
	Runs, Passed, Flaky, Failed int
}

// Flips finds, across runs, the scenarios whose verdict was not the same
// for the same inputs. Runs recorded without a digest (older kdrill) are
// left out: their inputs are unknown.
func Flips(runs []*model.Results) []Flip {
	groups := map[string]*Flip{}
	for _, r := range runs {
		for _, s := range r.Scenarios {
			if s.Digest == "" {
				continue
			}
			vars, _ := json.Marshal(s.Vars) // maps marshal in key order
			key := s.Name + "\x00" + s.Digest + "\x00" + string(vars)
			f := groups[key]
			if f == nil {
				f = &Flip{Scenario: s.Name}
				groups[key] = f
			}
			f.Runs++
			switch {
			case s.Flaky:
				f.Flaky++
			case s.Outcome == model.Passed:
				f.Passed++
			case s.Outcome == model.Failed:
				f.Failed++
			}
		}
	}
	var out []Flip
	for _, f := range groups {
		if f.Flaky > 0 || (f.Passed > 0 && f.Failed > 0) {
			out = append(out, *f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Scenario != out[j].Scenario {
			return out[i].Scenario < out[j].Scenario
		}
		return out[i].Runs > out[j].Runs
	})
	return out
}

// WriteFlips lists the flaky scenarios, if any.
func WriteFlips(w io.Writer, flips []Flip) {
	if len(flips) == 0 {
		return
	}
	fmt.Fprintf(w, "\nflaky: verdicts that changed across runs of the same inputs (file, includes and vars):\n")
	for _, f := range flips {
		fmt.Fprintf(w, "  %-40s %d runs: %d passed, %d passed on a retry, %d failed\n", f.Scenario, f.Runs, f.Passed, f.Flaky, f.Failed)
	}
}
