package main

import (
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/runner/testcluster"
)

// No output of a run shows a Secret's values: not results.json, junit.xml,
// report.html, the console, the logs or the JSON event stream, even when a
// check on the Secret fails and shows what it saw.
func TestSecretValuesNeverReachAnyOutput(t *testing.T) {
	kubeconfig := testcluster.Kubeconfig(t)
	const password = "s3cr3t-kdrill-pw-42"
	const token = "tok-kdrill-9f8e7d"
	dir := t.TempDir()
	file := writeFile(t, dir, "secret.yaml", `apiVersion: kdrill.dev/v1alpha1
kind: Scenario
metadata: {name: secret}
spec:
  steps:
  - name: make secret
    apply:
      inline:
        apiVersion: v1
        kind: Secret
        metadata: {name: creds}
        stringData: {password: `+password+`}
        data: {token: `+base64.StdEncoding.EncodeToString([]byte(token))+`}
  - name: check that fails on purpose
    continueOnError: true
    timeout: 1s
    assert:
      resource: {kind: Secret, name: creds}
      expr: object.data.password == "wrong" && object.data.token == "wrong" && object.data != nil
  - name: whole object seen
    continueOnError: true
    timeout: 1s
    assert:
      resource: {kind: Secret, name: creds}
      expr: string(object) == "no"
`)
	forbidden := []string{
		password, base64.StdEncoding.EncodeToString([]byte(password)),
		token, base64.StdEncoding.EncodeToString([]byte(token)),
	}
	check := func(what, text string) {
		t.Helper()
		for _, f := range forbidden {
			if strings.Contains(text, f) {
				t.Errorf("%s shows the secret value %q", what, f)
			}
		}
	}
	for _, output := range []string{"text", "json"} {
		reportDir := filepath.Join(dir, "report-"+output)
		code, stdout, stderr := kdrill(t, "run", "--kubeconfig", kubeconfig, "--report-dir", reportDir, "--log-level", "debug", "--output", output, file)
		if code != exitFailed {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		check(output+" stdout", stdout)
		check(output+" stderr", stderr)
		if !strings.Contains(stdout+stderr, "<redacted>") {
			t.Errorf("%s: the failed check's values are not shown as <redacted>:\n%s", output, stdout)
		}
		// Every file the run wrote, the failed steps' diagnostics included.
		files := 0
		err := filepath.WalkDir(reportDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			check(output+" "+path, string(data))
			return nil
		})
		if err != nil || files < 4 {
			t.Fatalf("%d files read: %v", files, err)
		}
		if !strings.Contains(mustRead(t, filepath.Join(reportDir, "results.json")), `"diagnostics"`) {
			t.Errorf("%s: the failed checks collected no diagnostics to search", output)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
