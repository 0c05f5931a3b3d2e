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
// the answer to standard output. -v says what happened. "nc -l -p PORT"
// listens instead and prints what one client sends; -k keeps listening
// for the next client.
func nc(args []string) int {
	zero, verbose, timeout := false, false, 10*time.Second
	listen, keep, port := false, false, ""
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
		case a == "-p" && i+1 < len(args):
			i++
			port = args[i]
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for _, c := range a[1:] {
				switch c {
				case 'z':
					zero = true
				case 'v':
					verbose = true
				case 'l':
					listen = true
				case 'k':
					keep = true
				default:
					return fail("nc", "unrecognized option '-%c'", c)
				}
			}
		default:
			rest = append(rest, a)
		}
	}
	if listen {
		return serve(port, keep, verbose)
	}
	if len(rest) != 2 {
		return fail("nc", "usage: nc [-z] [-v] [-w SEC] HOST PORT, or nc -l [-k] -p PORT")
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

// serve accepts connections on the port and copies what each client sends
// to standard output: one client, or one after another with keep.
func serve(port string, keep, verbose bool) int {
	if port == "" {
		return fail("nc", "listen: give the port with -p PORT")
	}
	l, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return fail("nc", "%v", err)
	}
	defer l.Close()
	for {
		conn, err := l.Accept()
		if err != nil {
			return fail("nc", "%v", err)
		}
		if verbose {
			fmt.Fprintf(os.Stderr, "connect from %s\n", conn.RemoteAddr())
		}
		if !keep {
			_, _ = io.Copy(os.Stdout, conn)
			_ = conn.Close()
			return 0
		}
		go func() { _, _ = io.Copy(os.Stdout, conn); _ = conn.Close() }()
	}
}
