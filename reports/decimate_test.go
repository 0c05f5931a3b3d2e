package reports

import (
	"testing"
	"time"
)

func TestDecimateKeepsExtremesAndBoundsSize(t *testing.T) {
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var xs []time.Time
	var ys []float64
	for i := range 200_000 {
		xs = append(xs, start.Add(time.Duration(i)*10*time.Millisecond))
		v := 500.0
		if i == 123_457 {
			v = 3 // one deep, short dip
		}
		if i == 77_777 {
			v = 900
		}
		ys = append(ys, v)
	}
	ox, oy := decimate(xs, ys)
	if len(ox) > 4*chartColumns+1 || len(ox) != len(oy) {
		t.Fatalf("%d points kept", len(ox))
	}
	lo, hi := oy[0], oy[0]
	for i, y := range oy {
		lo, hi = min(lo, y), max(hi, y)
		if i > 0 && ox[i].Before(ox[i-1]) {
			t.Fatal("points out of time order")
		}
	}
	if lo != 3 || hi != 900 || !ox[0].Equal(xs[0]) || !ox[len(ox)-1].Equal(xs[len(xs)-1]) {
		t.Errorf("kept min %v max %v, first %v last %v", lo, hi, ox[0], ox[len(ox)-1])
	}
}
