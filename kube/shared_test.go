package kube

import "testing"

func TestShareStartsOnceAndStopsWithTheLastUser(t *testing.T) {
	c := &Cluster{}
	starts, stops := 0, 0
	start := func() (any, func()) {
		starts++
		return starts, func() { stops++ }
	}
	a, releaseA := c.Share("pods", start)
	b, releaseB := c.Share("pods", start)
	other, releaseOther := c.Share("nodes", start)
	if a != 1 || b != 1 || other != 2 {
		t.Fatalf("values %v %v %v: one start per key", a, b, other)
	}
	releaseA()
	releaseA() // a second release by the same user counts once
	if stops != 0 {
		t.Fatal("stopped while a user remains")
	}
	releaseB()
	if stops != 1 {
		t.Fatalf("%d stops after the last user of pods", stops)
	}
	if again, release := c.Share("pods", start); again != 3 {
		t.Errorf("after the last release the next user starts anew, got %v", again)
	} else {
		release()
	}
	releaseOther()
	if stops != 3 {
		t.Errorf("%d stops, want 3", stops)
	}
}
