package model

import (
	"testing"
	"time"
)

func TestFaultsCostWhatHappenedInTheirWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	mon := &MonitorOutput{
		Recovery: Recovery{Batches: []BatchRecovery{
			{Time: at(10), Killed: 2, Cause: "kill", Recovery: Duration{Duration: 4 * time.Second}, Recovered: true},
			{Time: at(30), Killed: 1, Cause: "drain node-1", Recovered: false},
		}},
		Workloads: []WorkloadSeries{{End: at(40), Samples: []Sample{
			{Time: at(0), Desired: 3, Available: 3},
			{Time: at(10), Desired: 3, Available: 1}, // 2 short for 2 s
			{Time: at(12), Desired: 3, Available: 2}, // 1 short for 2 s
			{Time: at(14), Desired: 3, Available: 3},
			{Time: at(30), Desired: 3, Available: 2}, // 1 short to the end, 10 s
		}}},
	}
	load := &LoadOutput{}
	for i := range 40 {
		s := LoadSecond{Time: at(float64(i)), Sent: 10}
		switch i {
		case 10, 11:
			s.Failed = 10 // nothing got through: a 2 s gap
		case 12:
			s.Failed, s.Slow = 3, 2
		}
		load.Series = append(load.Series, s)
	}
	part := &PartitionOutput{Started: at(20), Healed: at(25)}
	got := Faults([]*MonitorOutput{mon}, []*LoadOutput{load}, map[string]*PartitionOutput{"cut": part})
	if len(got) != 3 {
		t.Fatalf("%d faults: %+v", len(got), got)
	}
	kill, cut, drain := got[0], got[1], got[2]
	if kill.Cause != "kill" || kill.PodSecondsBelowDesired != 6 || kill.FailedRequests != 23 || kill.SlowRequests != 2 || kill.LongestGap.Duration != 2*time.Second || !kill.Recovered {
		t.Errorf("kill: %+v", kill)
	}
	if cut.Cause != "partition cut" || cut.FailedRequests != 0 || cut.Requests != 60 || cut.PodSecondsBelowDesired != 0 {
		t.Errorf("partition: %+v", cut)
	}
	if drain.Recovered || !drain.End.Equal(at(40)) || drain.PodSecondsBelowDesired != 10 {
		t.Errorf("an unrecovered drain runs to the end of monitoring: %+v", drain)
	}
	mon.Faults = got
	found := map[string]float64{}
	for _, m := range mon.Measures() {
		found[m.Name] = m.Value
	}
	// Per fault, on average: (23+0+0)/3 failed, (6+0+10)/3 pod-seconds.
	if found["faults.failedRequests"] != 23.0/3 || found["faults.podSecondsBelowDesired"] != 16.0/3 {
		t.Errorf("measures %v", found)
	}
}
