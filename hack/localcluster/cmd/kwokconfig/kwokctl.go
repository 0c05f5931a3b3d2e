package main

import (
	"path/filepath"

	configv1alpha1 "sigs.k8s.io/kwok/pkg/apis/config/v1alpha1"
	"sigs.k8s.io/yaml"
)

// The local cluster's address plan. kwok's simulated nodes hand out pod
// addresses from 10.0.0.0/24 by default, which is also the API server's
// default Service range: Services move to 10.96.0.0/16, and the real
// node's pods get 10.244.0.0/24 (node.sh).
const (
	serviceCIDR       = "10.96.0.0/16"
	kubernetesService = "10.96.0.1"
)

// kwokctlConfig is how kwokctl starts the control plane: component flags
// as patches (kwokctl v0.8.0's repeated --extra-args can land on the wrong
// component), the API server's certificate valid for the kubernetes
// Service's address (in-cluster clients on the real node dial it), the
// client certificate the API server shows to a real kubelet (its x509
// authentication trusts the cluster's CA), and kwok managing only the
// nodes it creates, never the real node.
//
// It is written in kwok's own versioned form with only these fields set:
// kwokctl defaults every option left out, where an option written as its
// zero value (as the internal form would) would turn off the API server's
// secure port, among others.
func kwokctlConfig(pkiDir string) ([]byte, error) {
	arg := func(k, v string) configv1alpha1.ExtraArgs { return configv1alpha1.ExtraArgs{Key: k, Value: v} }
	override := func(k, v string) configv1alpha1.ExtraArgs {
		return configv1alpha1.ExtraArgs{Key: k, Value: v, Override: true}
	}
	conf := &configv1alpha1.KwokctlConfiguration{}
	conf.APIVersion = configv1alpha1.GroupVersion.String()
	conf.Kind = configv1alpha1.KwokctlConfigurationKind
	conf.Options.KubeApiserverCertSANs = []string{kubernetesService}
	conf.ComponentsPatches = []configv1alpha1.ComponentPatches{
		{Name: "kube-apiserver", ExtraArgs: []configv1alpha1.ExtraArgs{
			arg("service-cluster-ip-range", serviceCIDR),
			arg("kubelet-client-certificate", filepath.Join(pkiDir, "admin.crt")),
			arg("kubelet-client-key", filepath.Join(pkiDir, "admin.key")),
			// kwok's nodes are at loopback addresses (cluster.sh), the real
			// node at this machine's: both are reached by address, not by
			// a host name nothing resolves.
			arg("kubelet-preferred-address-types", "InternalIP,Hostname"),
		}},
		// Without leader election: nothing restarts them here, and with it
		// they would exit when an API server outage cost them their lease.
		{Name: "kube-controller-manager", ExtraArgs: []configv1alpha1.ExtraArgs{
			arg("leader-elect", "false"),
			arg("service-cluster-ip-range", serviceCIDR),
		}},
		{Name: "kube-scheduler", ExtraArgs: []configv1alpha1.ExtraArgs{arg("leader-elect", "false")}},
		{Name: "kwok-controller", ExtraArgs: []configv1alpha1.ExtraArgs{
			override("manage-all-nodes", "false"),
			arg("manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake"),
		}},
	}
	return yaml.Marshal(conf)
}
