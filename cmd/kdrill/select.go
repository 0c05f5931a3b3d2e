package main

import (
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/kdrill/kdrill/scenario"
)

// parseShard reads "K/N" (1 <= K <= N); empty means the whole set.
func parseShard(s string) (k, n int, err error) {
	if s == "" {
		return 1, 1, nil
	}
	ks, ns, ok := strings.Cut(s, "/")
	k, kerr := strconv.Atoi(ks)
	n, nerr := strconv.Atoi(ns)
	if !ok || kerr != nil || nerr != nil || n < 1 || k < 1 || k > n {
		return 0, 0, usagef("--shard %q: want K/N with 1 <= K <= N, e.g. 2/4", s)
	}
	return k, n, nil
}

// indexedShard is --shards N as K/N, K from an Indexed Job's completion
// index (0-based).
func indexedShard(shard string, n int, index string) (string, error) {
	switch {
	case shard != "":
		return "", usagef("give --shard K/N or --shards N, not both")
	case n < 1:
		return "", usagef("--shards %d: want at least 1", n)
	case index == "":
		return "", usagef("--shards %d takes the share from $JOB_COMPLETION_INDEX, which is not set (an Indexed Job's pods have it; elsewhere give --shard K/%d)", n, n)
	}
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || i >= n {
		return "", usagef("--shards %d: $JOB_COMPLETION_INDEX is %q, want 0 to %d (the Job's completions must equal --shards)", n, index, n-1)
	}
	return strconv.Itoa(i+1) + "/" + strconv.Itoa(n), nil
}

// selectScenarios keeps the scenarios the selector matches, then the
// shard's share of them: every N-th in file order, starting at the K-th, so
// each shard gets the same scenarios on every machine.
func selectScenarios(all []*scenario.Scenario, selector, shard string) ([]*scenario.Scenario, error) {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, usagef("--selector %q: %v", selector, err)
	}
	k, n, err := parseShard(shard)
	if err != nil {
		return nil, err
	}
	var matched []*scenario.Scenario
	for _, s := range all {
		if sel.Matches(labels.Set(s.Metadata.Labels)) {
			matched = append(matched, s)
		}
	}
	sort.SliceStable(matched, func(i, j int) bool { return matched[i].File < matched[j].File })
	var out []*scenario.Scenario
	for i, s := range matched {
		if i%n == k-1 {
			out = append(out, s)
		}
	}
	return out, nil
}
