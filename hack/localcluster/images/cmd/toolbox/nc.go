package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// nc opens a TCP connection as busybox's nc does: "nc -z -w SECONDS HOST
// PORT" only checks that the port accepts (exit 0) or not (exit 1, with
// the reason); without -z it copies standard input to the connection and
// the answer to standard output. -v says what happened.
func nc(args []string) int {
	zero, verbose, timeout := false, false, 10*time.Second
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-w" && i+1 < len(args):
			i++
			d, err := parseSeconds(args[i])
			if err != nil {
				return fail("nc", "%v", err)
			}
			timeout = d
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for _, c := range a[1:] {
				switch c {
				case 'z':
					zero = true
				case 'v':
					verbose = true
				default:
					return fail("nc", "unrecognized option '-%c'", c)
				}
			}
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) != 2 {
		return fail("nc", "usage: nc [-z] [-v] [-w SEC] HOST PORT")
	}
	addr := net.JoinHostPort(rest[0], rest[1])
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return fail("nc", "%s: %v", addr, err)
	}
	defer conn.Close()
	if verbose {
		fmt.Fprintf(os.Stderr, "%s open\n", addr)
	}
	if zero {
		return 0
	}
	go func() { _, _ = io.Copy(conn, os.Stdin); _ = conn.(*net.TCPConn).CloseWrite() }()
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	if _, err := io.Copy(os.Stdout, conn); err != nil && !os.IsTimeout(err) {
		return fail("nc", "%v", err)
	}
	return 0
}
