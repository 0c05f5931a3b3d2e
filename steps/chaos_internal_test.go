package steps

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kdrill/kdrill/model"
)

func TestPoissonDrawsHaveTheMeanAndVariance(t *testing.T) {
	for _, mean := range []float64{0.5, 10, 750} {
		rng := rand.New(rand.NewPCG(1, 2))
		const n = 20000
		var sum, sumSq float64
		for range n {
			x := float64(poisson(rng, mean))
			sum += x
			sumSq += x * x
		}
		m := sum / n
		v := sumSq/n - m*m
		// A Poisson variable's variance equals its mean; 20000 draws put the
		// sample mean within a few standard errors.
		if se := math.Sqrt(mean / n); math.Abs(m-mean) > 5*se {
			t.Errorf("mean %.1f: sample mean %.3f", mean, m)
		}
		if math.Abs(v-mean)/mean > 0.1 {
			t.Errorf("mean %.1f: sample variance %.3f", mean, v)
		}
	}
}

func TestScheduleDependsOnlyOnSpecAndSeed(t *testing.T) {
	rounds := &KillPoisson{PodTarget: PodTarget{Selector: "app=x"}}
	rounds.Default()
	a, b := rounds.schedule(42), rounds.schedule(42)
	if diff := cmp.Diff(a, b, cmp.AllowUnexported(plannedKill{})); diff != "" {
		t.Errorf("same seed, different schedules:\n%s", diff)
	}
	if len(a) != 10 || a[0].at != 0 || a[9].at != 45*time.Second {
		t.Errorf("default rounds schedule: %+v", a)
	}
	if cmp.Equal(a, rounds.schedule(43), cmp.AllowUnexported(plannedKill{})) {
		t.Error("a different seed gave the same counts")
	}

	process := &KillPoisson{PodTarget: PodTarget{Selector: "app=x"}, Mode: "process", Rate: 2, Duration: model.Duration{Duration: time.Minute}}
	process.Default()
	plan := process.schedule(7)
	// About rate × duration = 120 kills, each of one pod, in rising time.
	if len(plan) < 80 || len(plan) > 160 {
		t.Errorf("process mode planned %d kills in a minute at 2/s", len(plan))
	}
	for i, p := range plan {
		if p.count != 1 || p.at >= time.Minute || (i > 0 && p.at < plan[i-1].at) {
			t.Fatalf("kill %d: %+v", i, p)
		}
	}
	capped := &KillPoisson{PodTarget: PodTarget{Selector: "app=x"}, Mode: "process", Rate: 100, Rounds: 5, Duration: model.Duration{Duration: time.Hour}}
	capped.Default()
	if got := len(capped.schedule(1)); got != 5 {
		t.Errorf("rounds caps process mode at 5 kills, got %d", got)
	}
}

func TestKillPoissonValidation(t *testing.T) {
	for name, tc := range map[string]struct {
		spec KillPoisson
		want string
	}{
		"empty selector":        {KillPoisson{}, "selector: required"},
		"unsafe is allowed":     {KillPoisson{PodTarget: PodTarget{Namespace: "kube-system", AllowUnsafe: true}}, ""},
		"process needs rate":    {KillPoisson{PodTarget: PodTarget{Selector: "a=b"}, Mode: "process", Duration: model.Duration{Duration: time.Second}}, "rate: must be > 0"},
		"process needs dur":     {KillPoisson{PodTarget: PodTarget{Selector: "a=b"}, Mode: "process", Rate: 1}, "duration: required"},
		"bad mode":              {KillPoisson{PodTarget: PodTarget{Selector: "a=b"}, Mode: "burst"}, "mode: must be rounds or process"},
		"fraction above one":    {KillPoisson{PodTarget: PodTarget{Selector: "a=b"}, MaxKillFraction: 2}, "maxKillFraction"},
		"selector and workload": {KillPoisson{PodTarget: PodTarget{Selector: "a=b", Workload: &ObjectRef{Kind: "Deployment", Name: "w"}}}, "not both"},
	} {
		tc.spec.Default()
		err := tc.spec.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}

// A drain evicts for a while: availability dips, returns, dips again; its
// recovery is to the last return, not the first.
func TestDrainRecoveryIsToTheLastReturn(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	samples := []model.Sample{
		{Time: at(0), Desired: 3, Available: 3},
		{Time: at(1), Desired: 3, Available: 2}, // first eviction
		{Time: at(2), Desired: 3, Available: 3}, // back
		{Time: at(3), Desired: 3, Available: 2}, // the budget lets the next one go
		{Time: at(5), Desired: 3, Available: 3}, // back for good
		{Time: at(8), Desired: 3, Available: 3},
	}
	b := recoveryAfter(samples, at(0), at(4), 2, at(10))
	if !b.Recovered || b.Recovery.Duration != 5*time.Second {
		t.Errorf("drain recovery %+v, want 5s (the last return)", b)
	}
	if k := recoveryAfter(samples, at(0), at(0), 1, at(10)); k.Recovery.Duration != 2*time.Second {
		t.Errorf("a kill at once recovers at the first return: %+v", k)
	}
}

func TestRecoveryAndSummary(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	samples := []model.Sample{
		{Time: at(0), Desired: 10, Available: 10},
		{Time: at(1.1), Desired: 10, Available: 7},  // batch at 1s dips
		{Time: at(3), Desired: 10, Available: 10},   // back after 2s
		{Time: at(10.2), Desired: 10, Available: 9}, // batch at 10s dips
		{Time: at(20), Desired: 10, Available: 9},
	}
	end := at(25)
	got := []model.BatchRecovery{
		recoveryAfter(samples, at(1), at(1), 3, end),
		recoveryAfter(samples, at(5), at(5), 1, end), // no dip before the next batch's: still counts the later dip
		recoveryAfter(samples, at(10), at(10), 1, end),
		recoveryAfter(samples, at(24), at(24), 1, end), // no sample after it: no visible impact
	}
	if !got[0].Recovered || got[0].Recovery.Duration != 2*time.Second {
		t.Errorf("batch 1: %+v", got[0])
	}
	if got[2].Recovered || got[2].Recovery.Duration != 15*time.Second {
		t.Errorf("batch 3 never recovered and lasts until the end: %+v", got[2])
	}
	if !got[3].Recovered || got[3].Recovery.Duration != 0 {
		t.Errorf("batch 4: %+v", got[3])
	}
	sum := summarize(got)
	if sum.Unrecovered != 2 || sum.Max.Duration != 20*time.Second || sum.P50.Duration != 2*time.Second {
		t.Errorf("summary %+v", sum)
	}
	ws := (&workloadWatcher{samples: samples, seen: map[string]bool{"ns/a": true}}).series(end, []model.TimelineEvent{
		{Time: at(1), Kind: "kill", Count: 2, Objects: []string{"ns/a", "ns/other"}},
	})
	if ws.MinAvailable != 7 || ws.Kills != 1 || len(ws.Recovery.Batches) != 1 {
		t.Errorf("series: min %d kills %d batches %d", ws.MinAvailable, ws.Kills, len(ws.Recovery.Batches))
	}
	// Below desired: 1.1s→3s, and 10.2s→25s.
	if want := 1900*time.Millisecond + 14800*time.Millisecond; ws.BelowDesired.Duration != want {
		t.Errorf("below desired %s, want %s", ws.BelowDesired, want)
	}
}

// chiSquareCritical approximates the chi-square quantile for df degrees of
// freedom at the 1 % level (Wilson–Hilferty).
func chiSquareCritical(df int) float64 {
	const z99 = 2.3263
	k := float64(df)
	h := 2 / (9 * k)
	return k * math.Pow(1-h+z99*math.Sqrt(h), 3)
}

func TestRoundsScheduleIsPoissonAtTheOnePercentLevel(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		k := &KillPoisson{PodTarget: PodTarget{Selector: "a=b"}, Mean: 10, Rounds: 10000}
		k.Default()
		plan := k.schedule(seed)
		if len(plan) != 10000 {
			t.Fatalf("planned %d rounds", len(plan))
		}
		observed := map[int]int{}
		for _, p := range plan {
			observed[p.count]++
		}
		// Bins 0..4 and 17+ are merged into the tails so every bin expects
		// at least 5 draws.
		pmf := func(x int) float64 { return math.Exp(-10 + float64(x)*math.Log(10) - lgamma(x+1)) }
		var chi float64
		bins := 0
		lowExp, lowObs := 0.0, 0
		for x := 0; x <= 4; x++ {
			lowExp += 10000 * pmf(x)
			lowObs += observed[x]
		}
		add := func(exp float64, obs int) {
			chi += (float64(obs) - exp) * (float64(obs) - exp) / exp
			bins++
		}
		add(lowExp, lowObs)
		highExp, highObs := 10000.0-lowExp, 10000-lowObs
		for x := 5; x <= 16; x++ {
			e := 10000 * pmf(x)
			add(e, observed[x])
			highExp -= e
			highObs -= observed[x]
		}
		add(highExp, highObs)
		if crit := chiSquareCritical(bins - 1); chi > crit {
			t.Errorf("seed %d: chi-square %.1f over %d bins exceeds the 1%% critical value %.1f", seed, chi, bins, crit)
		}
	}
}

func lgamma(x int) float64 {
	v, _ := math.Lgamma(float64(x))
	return v
}

func TestProcessScheduleHasExponentialGapsAtTheOnePercentLevel(t *testing.T) {
	const rate = 20.0
	for _, seed := range []int64{1, 2, 3} {
		k := &KillPoisson{PodTarget: PodTarget{Selector: "a=b"}, Mode: "process", Rate: rate, Rounds: 10000, Duration: model.Duration{Duration: 24 * time.Hour}}
		k.Default()
		plan := k.schedule(seed)
		if len(plan) != 10000 {
			t.Fatalf("planned %d kills", len(plan))
		}
		gaps := make([]float64, len(plan))
		prev := time.Duration(0)
		for i, p := range plan {
			gaps[i] = (p.at - prev).Seconds()
			prev = p.at
		}
		slices.Sort(gaps)
		// Kolmogorov–Smirnov distance to Exp(rate).
		n := float64(len(gaps))
		var d float64
		for i, g := range gaps {
			cdf := 1 - math.Exp(-rate*g)
			d = max(d, math.Abs(float64(i+1)/n-cdf), math.Abs(cdf-float64(i)/n))
		}
		if crit := 1.628 / math.Sqrt(n); d > crit {
			t.Errorf("seed %d: KS distance %.4f exceeds the 1%% critical value %.4f", seed, d, crit)
		}
	}
}

func TestParseQuotaMessages(t *testing.T) {
	for msg, want := range map[string]*model.QuotaRejection{
		`pods "testing-service" is forbidden: exceeded quota: pod-demo, requested: pods=1, used: pods=2, limited: pods=2`: {
			Name: "pod-demo", Requested: map[string]float64{"pods": 1}, Used: map[string]float64{"pods": 2}, Limited: map[string]float64{"pods": 2},
		},
		`pods "x" is forbidden: exceeded quota: compute, requested: limits.memory=1Gi,requests.cpu=500m, used: limits.memory=0,requests.cpu=1, limited: limits.memory=1Gi,requests.cpu=1`: {
			Name: "compute", Requested: map[string]float64{"limits.memory": 1 << 30, "requests.cpu": 0.5},
			Used: map[string]float64{"limits.memory": 0, "requests.cpu": 1}, Limited: map[string]float64{"limits.memory": 1 << 30, "requests.cpu": 1},
		},
		`pods "nginx-65899c769f-xgwrb" is forbidden: failed quota: computequota: must specify limits.cpu,limits.memory,requests.cpu,requests.memory`: {
			Name: "computequota", MustSpecify: []string{"limits.cpu", "limits.memory", "requests.cpu", "requests.memory"},
		},
		`pods "bare" is forbidden: failed quota: computequota: must specify limits.cpu for: c,d; limits.memory for: c,d`: {
			Name: "computequota", MustSpecify: []string{"limits.cpu", "limits.memory"},
		},
		`pods "x" is forbidden: User "u" cannot create resource "pods"`: nil,
	} {
		if diff := cmp.Diff(want, parseQuotaMessage(msg)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", msg, diff)
		}
	}
}
