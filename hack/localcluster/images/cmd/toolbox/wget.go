package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"syscall"
	"time"
)

// wget fetches a URL as busybox's wget does: -q quiet, -O FILE (- is
// standard output), -T SECONDS (or --timeout=SECONDS) per network
// operation, --spider to check without saving, -S to print the response
// headers, -U AGENT, --header 'Name: value'. It exits 1 on any failure,
// an HTTP error status included.
func wget(args []string) int {
	var (
		quiet, spider, headers bool
		out                    string
		timeout                = 900 * time.Second
		agent                  = "Wget"
		extra                  []string
		target                 string
	)
	next := func(i *int, flag string) (string, bool) {
		if *i+1 >= len(args) {
			fail("wget", "option requires an argument: %s", flag)
			return "", false
		}
		*i++
		return args[*i], true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--spider":
			spider = true
		case strings.HasPrefix(a, "--timeout="):
			d, err := parseSeconds(strings.TrimPrefix(a, "--timeout="))
			if err != nil {
				return fail("wget", "%v", err)
			}
			timeout = d
		case a == "--header":
			v, ok := next(&i, a)
			if !ok {
				return 1
			}
			extra = append(extra, v)
		case strings.HasPrefix(a, "--header="):
			extra = append(extra, strings.TrimPrefix(a, "--header="))
		case a == "-q" || a == "--quiet":
			quiet = true
		case strings.HasPrefix(a, "-") && len(a) > 1 && !strings.HasPrefix(a, "--"):
			// Short options, combined as busybox allows: -qO- or -qO FILE.
			for j := 1; j < len(a); j++ {
				switch c := a[j]; c {
				case 'q':
					quiet = true
				case 'S':
					headers = true
				case 'O', 'T', 'U':
					v := a[j+1:]
					if v == "" {
						var ok bool
						if v, ok = next(&i, "-"+string(c)); !ok {
							return 1
						}
					}
					switch c {
					case 'O':
						out = v
					case 'U':
						agent = v
					case 'T':
						d, err := parseSeconds(v)
						if err != nil {
							return fail("wget", "%v", err)
						}
						timeout = d
					}
					j = len(a)
				default:
					return fail("wget", "unrecognized option '-%c'", c)
				}
			}
		default:
			if target != "" {
				return fail("wget", "only one URL is supported")
			}
			target = a
		}
	}
	if target == "" {
		return fail("wget", "missing URL")
	}
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return fail("wget", "bad address '%s'", target)
	}
	method := http.MethodGet
	if spider {
		method = http.MethodHead
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return fail("wget", "%v", err)
	}
	req.Header.Set("User-Agent", agent)
	for _, h := range extra {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if !quiet {
		fmt.Fprintf(os.Stderr, "Connecting to %s\n", u.Host)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, DialContext: (&net.Dialer{Timeout: timeout}).DialContext}}
	resp, err := client.Do(req)
	if err != nil {
		return fail("wget", "%s", wgetError(u, err))
	}
	defer resp.Body.Close()
	if headers {
		fmt.Fprintf(os.Stderr, "  %s %s\n", resp.Proto, resp.Status)
		for k, vs := range resp.Header {
			for _, v := range vs {
				fmt.Fprintf(os.Stderr, "  %s: %s\n", k, v)
			}
		}
	}
	if resp.StatusCode >= 400 {
		return fail("wget", "server returned error: %s %s", resp.Proto, resp.Status)
	}
	if spider {
		if !quiet {
			fmt.Fprintln(os.Stderr, "remote file exists")
		}
		return 0
	}
	if out == "" {
		out = path.Base(u.Path)
		if out == "/" || out == "." || out == "" {
			out = "index.html"
		}
	}
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return fail("wget", "can't open '%s': %v", out, err)
		}
		defer f.Close()
		w = f
		if !quiet {
			fmt.Fprintf(os.Stderr, "saving to '%s'\n", out)
		}
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fail("wget", "%s", wgetError(u, err))
	}
	if out != "-" && !quiet {
		fmt.Fprintf(os.Stderr, "'%s' saved\n", out)
	}
	return 0
}

// wgetError words a failed request as busybox does.
func wgetError(u *url.URL, err error) string {
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return fmt.Sprintf("bad address '%s'", u.Hostname())
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "download timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("can't connect to remote host (%s): Connection refused", u.Hostname())
	case errors.Is(err, syscall.EHOSTUNREACH):
		return fmt.Sprintf("can't connect to remote host (%s): No route to host", u.Hostname())
	}
	return err.Error()
}
