//go:build tools

// Package localcluster keeps in go.sum what the real node's kubelet and
// kube-proxy build from (build.sh builds them from k8s.io/kubernetes, as
// the control plane): without this import, go mod tidy would drop it.
package localcluster

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy/app"
	_ "k8s.io/kubernetes/cmd/kubelet/app"
)
