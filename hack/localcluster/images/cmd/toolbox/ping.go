package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// ping sends ICMP echo requests as busybox's ping does: -c COUNT, -W
// SECONDS to wait for each reply, -w SECONDS for the whole run, -i
// SECONDS between requests, -s SIZE data bytes (default 56), -q for the
// summary only. It exits 0 when a
// reply came back, 1 otherwise. It needs CAP_NET_RAW, which containers
// have by default.
func ping(args []string) int {
	count, size, wait, interval, deadline, quiet := -1, 56, 10*time.Second, time.Second, time.Duration(0), false
	var host string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-q" {
			quiet = true
			continue
		}
		if len(a) >= 2 && a[0] == '-' && strings.ContainsRune("cWwis", rune(a[1])) {
			v := a[2:]
			if v == "" {
				if i+1 >= len(args) {
					return fail("ping", "option requires an argument -- '%c'", a[1])
				}
				i++
				v = args[i]
			}
			if a[1] == 'c' || a[1] == 's' {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || a[1] == 's' && n > 65000 {
					return fail("ping", "invalid number '%s'", v)
				}
				if a[1] == 'c' {
					count = n
				} else {
					size = n
				}
				continue
			}
			d, err := parseSeconds(v)
			if err != nil {
				return fail("ping", "%v", err)
			}
			switch a[1] {
			case 'W':
				wait = d
			case 'w':
				deadline = d
			case 'i':
				interval = d
			}
			continue
		}
		host = a
	}
	if host == "" {
		return fail("ping", "usage: ping [-c COUNT] [-W SEC] [-w SEC] HOST")
	}
	ips, err := net.DefaultResolver.LookupIPAddr(context.Background(), host)
	var ip net.IP
	for _, a := range ips {
		if a.IP.To4() != nil {
			ip = a.IP
			break
		}
	}
	if err != nil || ip == nil {
		return fail("ping", "bad address '%s'", host)
	}
	conn, err := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return fail("ping", "permission denied (are you root?): %v", err)
	}
	defer conn.Close()
	fmt.Printf("PING %s (%s): %d data bytes\n", host, ip, size)
	start := time.Now()
	id := os.Getpid() & 0xffff
	sent, received := 0, 0
	var rtts []time.Duration
	for seq := 0; count < 0 || seq < count; seq++ {
		if deadline > 0 && time.Since(start) >= deadline {
			break
		}
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: make([]byte, size)}}
		b, _ := msg.Marshal(nil)
		t0 := time.Now()
		if _, err := conn.WriteTo(b, &net.IPAddr{IP: ip}); err != nil {
			return fail("ping", "sendto: %v", err)
		}
		sent++
		if rtt, ttl, ok := awaitReply(conn, ip, id, seq, t0, wait, start, deadline); ok {
			received++
			rtts = append(rtts, rtt)
			if !quiet {
				fmt.Printf("%d bytes from %s: seq=%d ttl=%d time=%.3f ms\n", size+8, ip, seq, ttl, float64(rtt.Microseconds())/1000)
			}
		}
		if count < 0 || seq+1 < count {
			if left := interval - time.Since(t0); left > 0 {
				time.Sleep(left)
			}
		}
	}
	fmt.Printf("\n--- %s ping statistics ---\n%d packets transmitted, %d packets received, %d%% packet loss\n",
		host, sent, received, (sent-received)*100/max(sent, 1))
	if len(rtts) > 0 {
		lo, hi, sum := rtts[0], rtts[0], time.Duration(0)
		for _, r := range rtts {
			lo, hi, sum = min(lo, r), max(hi, r), sum+r
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		fmt.Printf("round-trip min/avg/max = %.3f/%.3f/%.3f ms\n", ms(lo), ms(sum/time.Duration(len(rtts))), ms(hi))
	}
	if received == 0 {
		return 1
	}
	return 0
}

// awaitReply reads until the echo reply for seq arrives or the wait (or
// the whole run's deadline) passes.
func awaitReply(conn *icmp.PacketConn, ip net.IP, id, seq int, t0 time.Time, wait time.Duration, start time.Time, deadline time.Duration) (time.Duration, int, bool) {
	until := t0.Add(wait)
	if deadline > 0 && start.Add(deadline).Before(until) {
		until = start.Add(deadline)
	}
	buf := make([]byte, 65536)
	for {
		_ = conn.SetReadDeadline(until)
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			return 0, 0, false
		}
		if a, ok := peer.(*net.IPAddr); !ok || !a.IP.Equal(ip) {
			continue
		}
		m, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		if e, ok := m.Body.(*icmp.Echo); ok && e.ID == id && e.Seq == seq {
			ttl := 64
			if p := conn.IPv4PacketConn(); p != nil {
				if t, err := p.TTL(); err == nil && t > 0 {
					ttl = t
				}
			}
			return time.Since(t0), ttl, true
		}
	}
}
