//go:build tools

// Package kuberouter pins kube-router, the local cluster's NetworkPolicy
// controller (run in firewall-only mode on the real node), in a module of
// its own: its dependency graph is not the control plane's.
package kuberouter

import _ "github.com/cloudnativelabs/kube-router/v2/pkg/cmd"
