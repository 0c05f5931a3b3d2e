package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Heal ends a partition before its time: its NetworkPolicies are removed
// and the heal is put on the timeline, where a monitor's connections
// measure how long traffic took to come back.
//
// Example:
//
//	steps:
//	- name: cut the backend off
//	  partition: {selector: app=backend}
//	- name: heal
//	  heal: {partition: cut the backend off}
type Heal struct {
	// Partition names the earlier partition step to heal; empty heals
	// every partition made so far.
	Partition string `json:"partition,omitempty"`
}

// Default does nothing.
func (h *Heal) Default() {}

// Validate has nothing to check here; the partition's name is checked
// against the earlier steps.
func (h *Heal) Validate() error { return nil }

// StepRefs names the partition this step heals.
func (h *Heal) StepRefs() []scenario.StepRef {
	if h.Partition == "" {
		return nil
	}
	return []scenario.StepRef{{Field: "partition", Name: h.Partition, Kind: "partition"}}
}

// Plan says what would be healed.
func (h *Heal) Plan(context.Context, *step.Env) (string, error) {
	return "would remove the partition's NetworkPolicies (none were made in a dry run)", nil
}

// Run removes the partitions' policies.
func (h *Heal) Run(ctx context.Context, env *step.Env) (any, error) {
	names := []string{h.Partition}
	if h.Partition == "" {
		names = nil
		for _, st := range env.Scenario.Spec.Steps {
			if st.Kind == "partition" && st.Prefix == env.Step.Prefix {
				names = append(names, st.Name[len(st.Prefix):])
			}
		}
	}
	out := &model.HealOutput{Removed: []string{}}
	for _, name := range names {
		v, ok := env.Output(name)
		if !ok {
			if h.Partition == "" {
				continue // not run (yet): nothing of it to heal
			}
			return out, fmt.Errorf("partition %q has not finished: a partition with a duration heals itself when it is up", name)
		}
		var p model.PartitionOutput
		if err := model.DecodeOutput(v, &p); err != nil {
			return out, fmt.Errorf("partition %q: %w", name, err)
		}
		at, err := healPolicies(ctx, env, name, p.Policies)
		if err != nil {
			return out, err
		}
		out.Removed = append(out.Removed, p.Policies...)
		out.Time = at
	}
	if out.Time.IsZero() {
		out.Time = time.Now()
	}
	return out, nil
}
