// Command holdport keeps a TCP port taken while the server that owns it is
// stopped, so that no other program on the machine (another local cluster)
// takes it meanwhile: it listens on ADDRESS for SECONDS and resets every
// connection at once, as a stopped server's clients would see it refused.
//
//	holdport ADDRESS SECONDS
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: holdport ADDRESS SECONDS")
		os.Exit(2)
	}
	seconds, err := strconv.ParseFloat(os.Args[2], 64)
	if err != nil || seconds < 0 {
		fmt.Fprintln(os.Stderr, "holdport: SECONDS must be a number >= 0")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds*float64(time.Second)))
	defer cancel()
	var lis net.Listener
	for ctx.Err() == nil { // the stopped server's socket can take a moment to go
		if lis, err = new(net.ListenConfig).Listen(ctx, "tcp", os.Args[1]); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if lis == nil {
		fmt.Fprintln(os.Stderr, "holdport:", err)
		os.Exit(1)
	}
	go func() {
		<-ctx.Done()
		_ = lis.Close()
	}()
	for {
		conn, err := lis.Accept()
		if err != nil {
			return
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		_ = conn.Close()
	}
}
