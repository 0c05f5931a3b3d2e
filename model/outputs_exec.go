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
