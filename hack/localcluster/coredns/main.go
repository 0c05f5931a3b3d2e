// Command coredns is the local cluster's DNS server: CoreDNS with only the
// plugins a cluster's DNS needs (Services and pods from the API, other
// names forwarded to the machine's resolver, a cache, health and
// readiness), built from its module and run as a pod on the
// real node. It has a module of its own: CoreDNS wants newer Kubernetes
// libraries than the control plane is built from.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

// directives is the order plugins run in, as CoreDNS's plugin.cfg orders
// them.
var directives = []string{"ready", "health", "errors", "log", "cache", "kubernetes", "forward"}

func init() { dnsserver.Directives = directives }

func main() { coremain.Run() }
