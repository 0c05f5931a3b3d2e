// Command toolbox is kdrill.local/toolbox: one static program answering to
// the names of the commands people run inside a pod to check a cluster's
// network (wget, nslookup, ping, nc) and a few others (sleep, kill, echo,
// cat, tee, hostname, env, true, false), each behaving like busybox's for the
// options people use. It is called by the name it was started under
// (/bin/wget links to /bin/toolbox), or as "toolbox COMMAND ARGS".
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var commands = map[string]func(args []string) int{
	"wget":     wget,
	"nslookup": nslookup,
	"ping":     ping,
	"nc":       nc,
	"sleep":    sleep,
	"kill":     kill,
	"echo":     echo,
	"cat":      cat,
	"tee":      tee,
	"hostname": hostname,
	"env":      env,
	"true":     func([]string) int { return 0 },
	"false":    func([]string) int { return 1 },
}

func main() {
	name, args := filepath.Base(os.Args[0]), os.Args[1:]
	if name == "toolbox" {
		if len(args) == 0 {
			fmt.Fprintln(os.Stderr, "usage: toolbox COMMAND [ARGS]; commands: wget nslookup ping nc sleep kill echo cat tee hostname env true false")
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "toolbox: %s: applet not found\n", name)
		os.Exit(127)
	}
	os.Exit(cmd(args))
}

func fail(cmd, format string, a ...any) int {
	fmt.Fprintf(os.Stderr, cmd+": "+format+"\n", a...)
	return 1
}

// parseSeconds reads busybox's durations: N, N.N, or with a suffix s, m, h
// or d; "inf" and "infinity" are forever.
func parseSeconds(s string) (time.Duration, error) {
	if s == "inf" || s == "infinity" {
		return time.Duration(1<<63 - 1), nil
	}
	unit := time.Second
	switch {
	case strings.HasSuffix(s, "s"):
		s = strings.TrimSuffix(s, "s")
	case strings.HasSuffix(s, "m"):
		s, unit = strings.TrimSuffix(s, "m"), time.Minute
	case strings.HasSuffix(s, "h"):
		s, unit = strings.TrimSuffix(s, "h"), time.Hour
	case strings.HasSuffix(s, "d"):
		s, unit = strings.TrimSuffix(s, "d"), 24*time.Hour
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("invalid number '%s'", s)
	}
	return time.Duration(f * float64(unit)), nil
}

func sleep(args []string) int {
	if len(args) == 0 {
		return fail("sleep", "missing operand")
	}
	var total time.Duration
	for _, a := range args {
		d, err := parseSeconds(a)
		if err != nil {
			return fail("sleep", "%v", err)
		}
		if total += d; total < 0 {
			total = time.Duration(1<<63 - 1)
		}
	}
	// As a container's first process, a signal with no handler would be
	// ignored: SIGTERM and SIGINT end the sleep (a pod's deletion, kill 1).
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-time.After(total):
		return 0
	case sig := <-stop:
		return 128 + int(sig.(syscall.Signal))
	}
}

func kill(args []string) int {
	sig := syscall.SIGTERM
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		s := strings.TrimPrefix(strings.TrimPrefix(args[0], "-"), "SIG")
		if n, err := strconv.Atoi(s); err == nil {
			sig = syscall.Signal(n)
		} else if named, ok := map[string]syscall.Signal{"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2}[s]; ok {
			sig = named
		} else {
			return fail("kill", "bad signal name '%s'", s)
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return fail("kill", "usage: kill [-SIGNAL] PID...")
	}
	code := 0
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			code = fail("kill", "bad pid '%s'", a)
			continue
		}
		if err := syscall.Kill(pid, sig); err != nil {
			code = fail("kill", "can't kill pid %d: %v", pid, err)
		}
	}
	return code
}

func echo(args []string) int {
	newline := true
	if len(args) > 0 && args[0] == "-n" {
		newline, args = false, args[1:]
	}
	fmt.Print(strings.Join(args, " "))
	if newline {
		fmt.Println()
	}
	return 0
}

func cat(args []string) int {
	if len(args) == 0 {
		args = []string{"-"}
	}
	code := 0
	for _, a := range args {
		var r io.Reader = os.Stdin
		if a != "-" {
			f, err := os.Open(a)
			if err != nil {
				code = fail("cat", "can't open '%s': %v", a, err)
				continue
			}
			defer f.Close()
			r = f
		}
		if _, err := io.Copy(os.Stdout, r); err != nil {
			code = fail("cat", "%v", err)
		}
	}
	return code
}

// hostname prints the host's name, or with -i its addresses (a pod's
// address, from the /etc/hosts its kubelet wrote).
// tee copies standard input to standard output and to each FILE (-a
// appends): with exec's stdin, a way to write a file in a container.
func tee(args []string) int {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if len(args) > 0 && args[0] == "-a" {
		flags, args = os.O_CREATE|os.O_WRONLY|os.O_APPEND, args[1:]
	}
	writers := []io.Writer{os.Stdout}
	for _, a := range args {
		f, err := os.OpenFile(a, flags, 0o644)
		if err != nil {
			return fail("tee", "can't open '%s': %v", a, err)
		}
		defer f.Close()
		writers = append(writers, f)
	}
	if _, err := io.Copy(io.MultiWriter(writers...), os.Stdin); err != nil {
		return fail("tee", "%v", err)
	}
	return 0
}

func hostname(args []string) int {
	h, err := os.Hostname()
	if err != nil {
		return fail("hostname", "%v", err)
	}
	if len(args) == 1 && args[0] == "-i" {
		data, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return fail("hostname", "%v", err)
		}
		var addrs []string
		for _, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(strings.SplitN(line, "#", 2)[0])
			for _, name := range fields[min(1, len(fields)):] {
				if name == h {
					addrs = append(addrs, fields[0])
					break
				}
			}
		}
		if len(addrs) == 0 {
			return fail("hostname", "%s has no address in /etc/hosts", h)
		}
		fmt.Println(strings.Join(addrs, " "))
		return 0
	}
	fmt.Println(h)
	return 0
}

func env([]string) int {
	for _, kv := range os.Environ() {
		fmt.Println(kv)
	}
	return 0
}
