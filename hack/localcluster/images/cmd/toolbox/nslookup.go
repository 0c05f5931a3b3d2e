package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// nslookup resolves NAME as busybox's nslookup does, through the pod's
// /etc/resolv.conf (its search list too) or through SERVER when one is
// given, and prints the server, the name found and its addresses. A name
// that does not exist prints "** server can't find NAME: NXDOMAIN" and
// exits 1.
func nslookup(args []string) int {
	var rest []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
		}
	}
	if len(rest) == 0 || len(rest) > 2 {
		return fail("nslookup", "usage: nslookup HOST [DNS_SERVER]")
	}
	host := rest[0]
	server := resolvConfServer()
	resolver := &net.Resolver{PreferGo: true}
	if len(rest) == 2 {
		server = rest[1]
		resolver.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(server, "53"))
		}
	}
	fmt.Printf("Server:\t\t%s\nAddress:\t%s\n\n", server, net.JoinHostPort(server, "53"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ip := net.ParseIP(host); ip != nil {
		names, err := resolver.LookupAddr(ctx, host)
		if err != nil {
			return nslookupFailed(host, err)
		}
		for _, n := range names {
			fmt.Printf("%s\tname = %s\n", host, strings.TrimSuffix(n, "."))
		}
		return 0
	}
	addrs, err := resolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nslookupFailed(host, err)
	}
	name := host
	if cname, err := resolver.LookupCNAME(ctx, host); err == nil && cname != "" {
		name = strings.TrimSuffix(cname, ".")
	}
	for _, a := range addrs {
		fmt.Printf("Name:\t%s\nAddress: %s\n\n", name, a.IP)
	}
	return 0
}

func nslookupFailed(host string, err error) int {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		fmt.Printf("** server can't find %s: NXDOMAIN\n\n", host)
		return 1
	}
	if errors.As(err, &dns) && dns.IsTimeout {
		fmt.Printf(";; connection timed out; no servers could be reached\n\n")
		return 1
	}
	fmt.Printf("** server can't find %s: %v\n\n", host, err)
	return 1
}

// resolvConfServer is the first nameserver in /etc/resolv.conf.
func resolvConfServer() string {
	f, err := os.Open("/etc/resolv.conf")
	if err != nil {
		return "127.0.0.1"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) >= 2 && fields[0] == "nameserver" {
			return fields[1]
		}
	}
	return "127.0.0.1"
}
