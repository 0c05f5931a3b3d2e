package steps

import (
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
)

// Two scrapes of the API server's request families (the text format it
// serves), the second 5 GETs and one 503 LIST later.
const apiScrape1 = `# HELP apiserver_request_total [STABLE] Counter of apiserver requests.
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",resource="pods",verb="GET"} 10
apiserver_request_total{code="200",component="apiserver",resource="pods",verb="LIST"} 5
apiserver_request_total_other 99
# TYPE apiserver_request_sli_duration_seconds histogram
apiserver_request_sli_duration_seconds_bucket{resource="pods",verb="GET",le="0.05"} 8
apiserver_request_sli_duration_seconds_bucket{resource="pods",verb="GET",le="0.1"} 10
apiserver_request_sli_duration_seconds_bucket{resource="pods",verb="GET",le="+Inf"} 10
apiserver_request_sli_duration_seconds_sum{resource="pods",verb="GET"} 0.4
apiserver_request_sli_duration_seconds_count{resource="pods",verb="GET"} 10
# TYPE etcd_request_duration_seconds histogram
etcd_request_duration_seconds_bucket{le="+Inf"} 3
`

const apiScrape2 = `# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",resource="pods",verb="GET"} 15
apiserver_request_total{code="200",component="apiserver",resource="pods",verb="LIST"} 5
apiserver_request_total{code="503",component="apiserver",resource="pods",verb="LIST"} 1
# TYPE apiserver_request_sli_duration_seconds histogram
apiserver_request_sli_duration_seconds_bucket{resource="pods",verb="GET",le="0.05"} 10
apiserver_request_sli_duration_seconds_bucket{resource="pods",verb="GET",le="0.1"} 14
apiserver_request_sli_duration_seconds_bucket{resource="pods",verb="GET",le="+Inf"} 15
apiserver_request_sli_duration_seconds_sum{resource="pods",verb="GET"} 9
apiserver_request_sli_duration_seconds_count{resource="pods",verb="GET"} 15
`

func TestAPIServerFiguresOverAWindow(t *testing.T) {
	before, err := parseAPIMetrics(strings.NewReader(apiScrape1))
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseAPIMetrics(strings.NewReader(apiScrape2))
	if err != nil {
		t.Fatal(err)
	}
	f := after.minus(before).figures()
	if f.Requests != 6 || f.Errors != 1 || f.ErrorRate != 1.0/6 {
		t.Errorf("requests %d errors %d rate %g, want 6, 1, 1/6", f.Requests, f.Errors, f.ErrorRate)
	}
	get := f.Verbs["GET"]
	// 5 GETs: 2 within 50ms, 2 in (50ms, 100ms], 1 above: the median is
	// interpolated in the second bucket (rank 2.5 of its 2..4), p90 falls
	// above the highest finite bound, which is the answer.
	if get.Requests != 5 || get.Latency.Samples != 5 {
		t.Fatalf("GET %+v", get)
	}
	if got, want := get.Latency.P50.Duration, 62500*time.Microsecond; got != want {
		t.Errorf("p50 %s, want %s", got, want)
	}
	if got, want := get.Latency.P90.Duration, 100*time.Millisecond; got != want {
		t.Errorf("p90 %s, want %s", got, want)
	}
	// Since the server started, 1 of 15 above 100ms: p99 is the highest
	// finite bound, as histogram_quantile says.
	if got := after.figures().Verbs["GET"].Latency.P99.Duration; got != 100*time.Millisecond {
		t.Errorf("p99 since start %s, want 100ms", got)
	}
	if f.Verbs["LIST"].Errors != 1 || f.Verbs["LIST"].Requests != 1 {
		t.Errorf("LIST %+v", f.Verbs["LIST"])
	}
}

func TestAPIServerRestartCountsFromItsStart(t *testing.T) {
	before, _ := parseAPIMetrics(strings.NewReader(apiScrape2))
	after, _ := parseAPIMetrics(strings.NewReader(apiScrape1))
	if f := after.minus(before).figures(); f.Verbs["GET"].Requests != 10 {
		t.Errorf("a counter that went down (a restart): %d GETs, want the 10 since", f.Verbs["GET"].Requests)
	}
}

func TestPrometheusAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		window     bool
		result     *float64
		series     int
		max        float64
	}{
		{"scalar", `{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"0.25"]}}`, false, ptr(0.25), 1, 0.25},
		{"one series", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"apiserver"},"value":[1700000000,"3"]}]}}`, false, ptr(3.0), 1, 3},
		{"two series", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1,"1"]},{"metric":{"job":"b"},"value":[1,"2"]}]}}`, false, nil, 2, 0},
		{"empty", `{"status":"success","data":{"resultType":"vector","result":[]}}`, false, nil, 0, 0},
		{"NaN is no sample", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}`, false, nil, 0, 0},
		{"window", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"5"],[3,"3"]]}]}}`, true, ptr(3.0), 1, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &model.MetricsOutput{}
			if tc.window {
				out.From = time.Unix(1, 0)
			}
			if err := readPromAnswer([]byte(tc.body), out); err != nil {
				t.Fatal(err)
			}
			if len(out.Series) != tc.series {
				t.Errorf("%d series, want %d", len(out.Series), tc.series)
			}
			switch {
			case tc.result == nil && out.Result != nil:
				t.Errorf("result %g, want none", *out.Result)
			case tc.result != nil && (out.Result == nil || *out.Result != *tc.result):
				t.Errorf("result %v, want %g", out.Result, *tc.result)
			}
			if tc.window && (out.Max == nil || *out.Max != tc.max || *out.Min != 1 || *out.Mean != 3) {
				t.Errorf("window min/max/mean %v %v %v, want 1 5 3", out.Min, out.Max, out.Mean)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
