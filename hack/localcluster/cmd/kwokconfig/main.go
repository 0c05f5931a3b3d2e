// Command kwokconfig writes the kwok configuration kdrill's local cluster
// runs with: kwokctl's own default node and pod stages (kwokctl drops them
// as soon as a configuration names any stage, so they are written out
// here), stages that make labelled pods crash-loop, fail to pull or start
// slowly and
// labelled nodes go NotReady and come back, ClusterLogs so that
// every simulated pod serves logs through the API server, and ClusterExec
// so that exec into any simulated pod runs the command on this machine in
// a directory standing for the container's file system, and a
// ClusterPortForward under which a pod's port 8080 answers GET /info as
// testing-service 1.0 and port 8081 as 2.0.
//
// With it, the control plane's flags and certificates (kwokctl.go).
//
//	kwokconfig OUT DIR PKI_DIR
package main

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeatwithlease "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
	"sigs.k8s.io/kwok/pkg/config"
)

//go:embed pod-crash-loop.yaml
var podCrashLoop string

//go:embed pod-image-pull.yaml
var podImagePull string

//go:embed node-not-ready.yaml
var nodeNotReady string

// notReadyLabel makes a node report NotReady (node-not-ready.yaml).
const notReadyLabel = "node-not-ready.stage.kwok.x-k8s.io"

// heartbeatMilliseconds is kwokctl's node status update frequency for the
// binary runtime.
const heartbeatMilliseconds = 50000

func main() {
	if len(os.Args) == 3 && os.Args[1] == "info" {
		// kwok runs this per port-forward connection, the stream on stdin
		// and stdout.
		if err := info(os.Stdin, os.Stdout, os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "kwokconfig info:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: kwokconfig OUT DIR PKI_DIR | kwokconfig info VERSION")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "kwokconfig:", err)
		os.Exit(1)
	}
}

func run(out, dir, pkiDir string) error {
	var objs []config.InternalObject
	for _, raw := range []string{nodefast.DefaultNodeInit, nodeheartbeatwithlease.DefaultNodeHeartbeatWithLease, podfast.DefaultPodReady, podfast.DefaultPodComplete, podfast.DefaultPodDelete, podCrashLoop, podImagePull, nodeNotReady} {
		stage, err := config.UnmarshalWithType[*internalversion.Stage](raw)
		if err != nil {
			return err
		}
		if stage.Name == "node-initialize" {
			// It makes any node that is not Ready ready; a node failed on
			// purpose stays NotReady until the label goes, and is then
			// made Ready again by this stage, as a kubelet coming back.
			stage.Spec.Selector.MatchExpressions = append(stage.Spec.Selector.MatchExpressions, internalversion.MatchExpression{JQ: &internalversion.SelectorJQ{
				Key: `.metadata.labels["` + notReadyLabel + `"]`, Operator: internalversion.SelectorOpDoesNotExist,
			}})
		}
		if stage.Name == "node-heartbeat-with-lease" {
			d, j := int64(heartbeatMilliseconds), int64(heartbeatMilliseconds+heartbeatMilliseconds/10)
			stage.Spec.Delay.DurationMilliseconds, stage.Spec.Delay.JitterDurationMilliseconds = &d, &j
		}
		objs = append(objs, stage)
	}
	slow, err := slowReady()
	if err != nil {
		return err
	}
	objs = append(objs, slow)
	logs, err := writeLogs(filepath.Join(dir, "logs"))
	if err != nil {
		return err
	}
	exec, err := writeExecRoot(filepath.Join(dir, "pod-root"))
	if err != nil {
		return err
	}
	forward, err := portForward()
	if err != nil {
		return err
	}
	objs = append(objs, logs, exec, forward)
	if err := config.Save(context.Background(), out, objs); err != nil {
		return err
	}
	kwokctl, err := kwokctlConfig(pkiDir)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(out, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(append([]byte("---\n"), kwokctl...)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Ports a simulated pod answers on through a port-forward, as the course
// notes' testing-service does: GET /info says which version serves.
var infoPorts = map[int32]string{8080: "1.0", 8081: "2.0"}

// portForward is the ClusterPortForward that makes a forward to any pod's
// port 8080 reach a testing-service of version 1.0, and 8081 one of 2.0:
// this program, run by kwok per connection (info below). Nothing listens
// between runs.
func portForward() (*internalversion.ClusterPortForward, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	pf := &internalversion.ClusterPortForward{}
	pf.Name = "kdrill-port-forward"
	for _, port := range []int32{8080, 8081} {
		pf.Spec.Forwards = append(pf.Spec.Forwards, internalversion.Forward{Ports: []int32{port}, Command: []string{self, "info", infoPorts[port]}})
	}
	return pf, nil
}

// info answers one HTTP request read from r on w, as the course notes'
// testing-service: GET /info gives {"host": ..., "version": ..., "from": ...};
// any other path is 404.
func info(r io.Reader, w io.Writer, version string) error {
	req, err := http.ReadRequest(bufio.NewReader(r))
	if err != nil {
		return err
	}
	status, body := http.StatusOK, fmt.Sprintf(`{"host": %q, "version": %q, "from": "127.0.0.1"}`, req.Host, version)
	if req.URL.Path != "/info" {
		status, body = http.StatusNotFound, `{"error": "not found"}`
	}
	_, err = fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	return err
}

// slowStartMilliseconds is how long a pod labelled kdrill.dev/simulate:
// slow-start takes to become Ready, as a real application warming up would:
// long enough for a PodDisruptionBudget to hold a drain back.
const slowStartMilliseconds = 2000

// slowReady is kwok's pod-ready stage for pods labelled
// kdrill.dev/simulate=slow-start, which become Ready slowStartMilliseconds
// after they are scheduled instead of at once.
func slowReady() (*internalversion.Stage, error) {
	stage, err := config.UnmarshalWithType[*internalversion.Stage](podfast.DefaultPodReady)
	if err != nil {
		return nil, err
	}
	stage.Name = "kdrill-pod-slow-ready"
	stage.Spec.Selector.MatchExpressions = append(stage.Spec.Selector.MatchExpressions, internalversion.MatchExpression{JQ: &internalversion.SelectorJQ{
		Key: `.metadata.labels["kdrill.dev/simulate"]`, Operator: internalversion.SelectorOpIn, Values: []string{"slow-start"},
	}})
	d := int64(slowStartMilliseconds)
	stage.Spec.Delay = &internalversion.StageDelay{DurationMilliseconds: &d}
	stage.Spec.Weight = 10000
	return stage, nil
}

// writeLogs writes the log lines every simulated container serves, and
// the previous container's, and returns the ClusterLogs naming them.
func writeLogs(dir string) (*internalversion.ClusterLogs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	current := filepath.Join(dir, "current.log")
	previous := filepath.Join(dir, "previous.log")
	if err := os.WriteFile(current, criLog("starting", "listening on :8080", "ready"), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(previous, criLog("starting", "loading /etc/app/config.yaml", `panic: config key "database" is missing`), 0o644); err != nil {
		return nil, err
	}
	cl := &internalversion.ClusterLogs{Spec: internalversion.ClusterLogsSpec{Logs: []internalversion.Log{{LogsFile: current, PreviousLogsFile: previous}}}}
	cl.Name = "kdrill-logs"
	return cl, nil
}

// criLog writes lines in the container runtime's log format, which kwok
// reads: TIME STREAM F TEXT.
func criLog(lines ...string) []byte {
	var b []byte
	for i, l := range lines {
		b = fmt.Appendf(b, "2026-01-01T00:00:0%d.000000000Z stdout F %s\n", i, l)
	}
	return b
}

// writeExecRoot writes the directory exec runs in, standing for a
// container's file system (etc/app/version says 2.0), and returns the
// ClusterExec that runs every exec there, with APP_MODE=production.
func writeExecRoot(dir string) (*internalversion.ClusterExec, error) {
	if err := os.MkdirAll(filepath.Join(dir, "etc", "app"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "app", "version"), []byte("2.0\n"), 0o644); err != nil {
		return nil, err
	}
	ce := &internalversion.ClusterExec{Spec: internalversion.ClusterExecSpec{Execs: []internalversion.ExecTarget{{
		Local: &internalversion.ExecTargetLocal{WorkDir: dir, Envs: []internalversion.EnvVar{{Name: "APP_MODE", Value: "production"}}},
	}}}}
	ce.Name = "kdrill-exec"
	return ce, nil
}
