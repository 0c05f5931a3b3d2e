package steps

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// readiness follows kstatus: standard conditions decide for any kind.
func TestReadinessFromStandardConditions(t *testing.T) {
	for _, tc := range []struct {
		object string
		ready  bool
		failed string
	}{
		{"kind: Widget\nmetadata: {name: w, generation: 1}\nstatus: {conditions: [{type: Reconciling, status: 'True', reason: Working}]}", false, ""},
		{"kind: Widget\nmetadata: {name: w, generation: 1}\nstatus: {conditions: [{type: Reconciling, status: 'False', reason: Done}]}", true, ""},
		{"kind: Widget\nmetadata: {name: w, generation: 1}\nstatus: {conditions: [{type: Stalled, status: 'True', reason: NoQuota, message: quota used up}]}", false, "quota used up"},
		{"kind: Widget\nmetadata: {name: w, generation: 2}\nstatus: {observedGeneration: 1}", false, ""},
		{"kind: Widget\nmetadata: {name: w, generation: 1}\nstatus: {conditions: [{type: Ready, status: 'False', reason: Waiting}]}", false, ""},
		{"kind: ConfigMap\nmetadata: {name: c}", true, ""},
	} {
		data, err := yaml.YAMLToJSON([]byte("apiVersion: test/v1\n" + tc.object))
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
		ready, why, failed := readiness(u)
		if ready != tc.ready || (tc.failed == "") != (failed == nil) || (failed != nil && !strings.Contains(failed.Error(), tc.failed)) {
			t.Errorf("%s: ready %v (%s), failed %v", tc.object, ready, why, failed)
		}
	}
}
