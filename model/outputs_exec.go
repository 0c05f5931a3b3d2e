package model

// ExecOutput is what steps.NAME holds after an exec: the command's exit
// code and what it printed (64 KiB of each at most), and its standard
// output parsed when it is JSON.
type ExecOutput struct {
	ExitCode int    `json:"exitCode"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	// JSON is the standard output parsed, when it is JSON.
	JSON any `json:"json,omitempty"`
	// Truncated says that stdout or stderr was longer than was kept.
	Truncated bool `json:"truncated,omitempty"`
}

// LogsOutput is what steps.NAME holds after a logs step: the pods followed,
// how many lines were seen, and the last of them.
type LogsOutput struct {
	Pods  []string `json:"pods"`
	Lines int      `json:"lines"`
	Last  []string `json:"last"`
}

// ConnectOutput is what steps.NAME holds after a connect: every connection
// tried, one per source pod and destination, and the counts of what was
// observed.
type ConnectOutput struct {
	// Probes are the connections tried, in order.
	Probes []ConnectProbe `json:"probes"`
	// Allowed and Denied count the connections accepted and refused or
	// timed out; Errors those that could not be judged (a name that did
	// not resolve, a probe that could not run).
	Allowed int `json:"allowed"`
	Denied  int `json:"denied"`
	Errors  int `json:"errors"`
	// NotApplicable counts the connections this cluster cannot check:
	// from pods on simulated nodes, or expected denied where NetworkPolicy
	// is not enforced.
	NotApplicable int `json:"notApplicable,omitempty"`
	// Mismatches counts the probes whose observation differs from what
	// was expected.
	Mismatches int `json:"mismatches"`
}

// ConnectProbe is one connection a connect step tried from inside a pod.
type ConnectProbe struct {
	// From is the source pod.
	From string `json:"from"`
	// Target is what the scenario named (service backend:8080, pod
	// backend-0:8080, host example.com:443); Address what was dialled.
	Target  string `json:"target"`
	Address string `json:"address"`
	// Expected is allowed or denied; Observed is allowed, denied, error
	// or notApplicable (the cluster cannot check it; Reason says why).
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	// Reason says how a connection was denied (refused, timed out, no
	// route to host) or why it could not be judged.
	Reason  string  `json:"reason,omitempty"`
	Seconds float64 `json:"seconds"`
}

// ResolveOutput is what steps.NAME holds after a resolve: the name as the
// pod's resolver found it and its addresses, or that it does not exist.
type ResolveOutput struct {
	// Pod is where the name was looked up; Server the DNS server it asked.
	Pod    string `json:"pod"`
	Server string `json:"server,omitempty"`
	// Name is the name found, search domain applied.
	Name      string   `json:"name"`
	Addresses []string `json:"addresses"`
	Found     bool     `json:"found"`
	// NXDomain says the name does not exist.
	NXDomain bool `json:"nxdomain"`
	// Error is what nslookup said when it found neither.
	Error string `json:"error,omitempty"`
}
