package steps

import (
	"slices"
	"testing"
)

// nslookup's answers as busybox prints them (old and new) and as
// kdrill.local/toolbox does.
func TestParseNslookup(t *testing.T) {
	for _, tc := range []struct {
		text, name string
		addrs      []string
		nxdomain   bool
	}{
		{"Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\twebapp.ns.svc.cluster.local\nAddress: 10.96.4.7\n\n", "webapp.ns.svc.cluster.local", []string{"10.96.4.7"}, false},
		{"Server:    10.254.0.10\nAddress 1: 10.254.0.10 kube-dns.kube-system.svc.k8s.cluster\n\nName:      webapp\nAddress 1: 10.254.159.24 webapp.default.svc.k8s.cluster\n", "webapp", []string{"10.254.159.24"}, false},
		{"Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tboth\nAddress: 10.0.0.1\n\nName:\tboth\nAddress: fd00::1\n", "both", []string{"10.0.0.1", "fd00::1"}, false},
		{"Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find nope: NXDOMAIN\n\n", "", []string{}, true},
	} {
		out := parseNslookup(tc.text)
		if out.Name != tc.name || !slices.Equal(out.Addresses, tc.addrs) || out.NXDomain != tc.nxdomain || out.Found != (len(tc.addrs) > 0) {
			t.Errorf("parseNslookup(%q) = %+v", tc.text, out)
		}
	}
}
