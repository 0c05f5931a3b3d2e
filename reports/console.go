package reports

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
)

// Console is a model.Observer that prints the run for a person to follow:
// a line per step as it finishes and a summary per scenario. On a terminal
// it also keeps a live status line (the running steps, their elapsed time
// and the values their expression last saw) and uses colour unless
// NO_COLOR is set; elsewhere (CI=true, a pipe, a file) every line starts
// with a timestamp instead.
type Console struct {
	W io.Writer
	// Quiet prints only scenario outcomes and what failed; Verbose adds
	// step starts and the values passing checks saw.
	Quiet, Verbose bool
	// Names prefixes step lines with their scenario, for parallel runs.
	Names bool
	// Total is how many scenarios the run has, for the status line.
	Total int
	// Width bounds the status line (default: the terminal's, or 160).
	Width int
	// Live keeps the status line; Color colours marks; Timestamps prefixes
	// lines with the time. NewConsole sets them from the environment.
	Live, Color, Timestamps bool
	// Now is the clock of timestamps and the status line (default time.Now).
	Now func() time.Time

	mu      sync.Mutex
	results *model.Results
	status  bool // a status line is on screen
	stop    chan struct{}
	done    chan struct{}
}

// NewConsole returns a Console for w: live and coloured on a terminal,
// timestamped lines otherwise.
func NewConsole(w io.Writer, quiet, verbose, names bool) *Console {
	c := &Console{W: w, Quiet: quiet, Verbose: verbose, Names: names}
	interactive := false
	if f, ok := w.(*os.File); ok {
		fd := int(f.Fd()) //nolint:gosec // G115: a file descriptor fits an int
		interactive = term.IsTerminal(fd) && os.Getenv("CI") == ""
		if width, _, err := term.GetSize(fd); interactive && err == nil && width > 20 {
			c.Width = width - 1
		}
	}
	c.Live = interactive && !quiet
	c.Color = interactive && os.Getenv("NO_COLOR") == ""
	c.Timestamps = !interactive
	return c
}

var marks = map[model.Outcome]string{
	model.Passed:        "✓",
	model.Failed:        "✗",
	model.Errored:       "!",
	model.Cancelled:     "⊘",
	model.Skipped:       "-",
	model.NotApplicable: "○",
}

var colors = map[model.Outcome]string{
	model.Passed:        "\x1b[32m",
	model.Failed:        "\x1b[31m",
	model.Errored:       "\x1b[33m",
	model.Cancelled:     "\x1b[33m",
	model.Skipped:       "\x1b[90m",
	model.NotApplicable: "\x1b[36m",
}

// painted is text kdrill colours itself; printf passes it through as it
// is and makes every other string printable.
type painted string

func (c *Console) mark(o model.Outcome) painted {
	if c.Color {
		return painted(colors[o] + marks[o] + "\x1b[0m")
	}
	return painted(marks[o])
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// printf writes whole lines, clearing the status line first.
func (c *Console) printf(format string, args ...any) {
	if c.status {
		fmt.Fprint(c.W, "\r\x1b[K")
		c.status = false
	}
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = message.Printable(v)
		case error:
			args[i] = message.Printable(v.Error())
		}
	}
	text := fmt.Sprintf(format, args...)
	if c.Timestamps {
		stamp := c.now().UTC().Format("15:04:05.000 ")
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		for i, l := range lines {
			if l != "" { // a blank line stays blank
				lines[i] = stamp + l
			}
		}
		text = strings.Join(lines, "\n") + "\n"
	}
	fmt.Fprint(c.W, text)
}

// Observe prints the event.
func (c *Console) Observe(ev model.Event, r *model.Results, s *model.ScenarioResult, st *model.StepResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results = r // the status line shows the newest snapshot
	if c.Live && c.stop == nil && ev != model.RunFinished {
		c.stop, c.done = make(chan struct{}), make(chan struct{})
		go c.tick()
	}
	prefix := ""
	if c.Names && s != nil {
		prefix = "[" + s.Name + "] "
	}
	switch ev {
	case model.ScenarioStarted:
		if !c.Quiet {
			c.printf("▶ %s (%s) in namespace %s, seed %d\n", s.Name, s.File, s.Namespace, s.Seed)
		}
	case model.StepStarted:
		if c.Verbose {
			c.printf("  %s… %s [%s]\n", prefix, st.Name, kindOn(st))
		}
	case model.StepFinished:
		if c.Quiet && st.Outcome == model.Passed {
			return
		}
		phase := ""
		if st.Phase == model.PhaseFinally {
			phase = "finally: "
		}
		c.printf("  %s%s %s%s [%s] %s\n", prefix, c.mark(st.Outcome), phase, st.Name, kindOn(st), seconds(st.DurationSeconds))
		for _, line := range strings.Split(st.Plan, "\n") {
			if line != "" {
				c.printf("      → %s\n", line)
			}
		}
		if st.FailedAsExpected != "" && !c.Quiet {
			c.printf("      failed as expected: %s\n", message.FirstLine(st.FailedAsExpected))
		}
		if st.Outcome == model.NotApplicable {
			c.printf("      not applicable: %s\n", st.Error)
		} else if st.Outcome != model.Passed {
			for _, line := range strings.Split(st.Error, "\n") {
				c.printf("      %s\n", line)
			}
			if d := st.Diagnostics; d != nil {
				for _, cause := range d.Causes {
					c.printf("      likely cause: %s\n", cause)
				}
				if len(d.Files) > 0 && !c.Quiet {
					c.printf("      diagnostics: %s/ (%d files)\n", d.Dir, len(d.Files))
				}
			}
		} else if c.Verbose && st.Expression != "" {
			c.printf("      %s; saw %s\n", st.Expression, expression.FormatValues(st.Values))
		}
		if cp, ok := capacityOf(st); ok && !c.Quiet {
			c.status = false
			capacityTable(c.W, cp)
		}
	case model.ScenarioFinished:
		na := ""
		if n := s.NotApplicable(); n > 0 {
			na = fmt.Sprintf(" (%d not applicable here)", n)
		}
		c.printf("%s %s %s in %s%s%s\n", c.mark(s.Outcome), s.Name, strings.ToUpper(string(s.Outcome)), seconds(s.DurationSeconds), na, attemptNote(s))
		if s.NamespaceKept {
			c.printf("    namespace %s kept for inspection: kubectl get all,events -n %s; when done: kubectl delete namespace %s\n", s.Namespace, s.Namespace, s.Namespace)
		}
		if s.Outcome != model.Passed && s.Error != "" && !stepError(s) && !strings.HasPrefix(s.Error, "left behind: ") {
			c.printf("    %s\n", s.Error)
		}
		for _, left := range s.LeftBehind {
			c.printf("    left behind: %s (kdrill leftovers removes it)\n", left)
		}
		c.printScore(s)
	case model.RunFinished:
		if c.stop != nil {
			close(c.stop)
			c.mu.Unlock()
			<-c.done
			c.mu.Lock()
			c.stop = nil
		}
		counts := map[model.Outcome]int{}
		for _, sc := range r.Scenarios {
			counts[sc.Outcome]++
			if sc.Outcome == model.Errored && sc.StartedAt.IsZero() {
				c.printf("! %s: %s\n", sc.Name, sc.Error)
			}
		}
		var parts []string
		for _, o := range slices.Sorted(maps.Keys(counts)) {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
		c.printf("\n")
		for _, o := range r.Outages {
			c.printf("! %s\n", outageLine(o))
		}
		na := 0
		for _, sc := range r.Scenarios {
			na += sc.NotApplicable()
		}
		if n := flakyCount(r); n > 0 {
			parts = append(parts, fmt.Sprintf("%d flaky (passed on a retry)", n))
		}
		if na > 0 {
			parts = append(parts, fmt.Sprintf("%d checks not applicable on this cluster", na))
		}
		c.printf("%d scenario(s): %s\n", len(r.Scenarios), strings.Join(parts, ", "))
	}
}

// tick redraws the status line until the run finishes.
func (c *Console) tick() {
	defer close(c.done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for frame := 0; ; frame++ {
		select {
		case <-c.stop:
			c.mu.Lock()
			if c.status {
				fmt.Fprint(c.W, "\r\x1b[K")
				c.status = false
			}
			c.mu.Unlock()
			return
		case <-t.C:
		}
		c.mu.Lock()
		line := c.statusLine(c.results, frame)
		fmt.Fprint(c.W, "\r\x1b[K"+line)
		c.status = line != ""
		c.mu.Unlock()
	}
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// statusLine describes the running steps: name, elapsed time and the
// values their expression last saw.
func (c *Console) statusLine(r *model.Results, frame int) string {
	var parts []string
	now := c.now()
	suite := ""
	n := max(c.Total, len(r.Scenarios))
	if n > 1 {
		done := 0
		for _, s := range r.Scenarios {
			if s.Outcome != model.Running && !s.FinishedAt.IsZero() {
				done++
			}
		}
		suite = fmt.Sprintf("[%d/%d done] ", done, n)
	}
	for _, s := range r.Scenarios {
		for _, st := range s.Steps {
			if st.Outcome != model.Running {
				continue
			}
			p := fmt.Sprintf("%s %s %s", st.Name, st.Kind, seconds(now.Sub(st.StartedAt).Seconds()))
			switch {
			case len(st.Values) > 0:
				p += ": " + expression.FormatValues(st.Values)
			case len(st.Progress) > 0:
				p += ": " + expression.FormatValues(st.Progress)
			}
			if c.Names {
				p = s.Name + " › " + p
			}
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	line := spinner[frame%len(spinner)] + " " + suite + strings.Join(parts, " | ")
	width := c.Width
	if width <= 0 {
		width = 160
	}
	if r := []rune(line); len(r) > width {
		line = string(r[:width-1]) + "…"
	}
	return line
}

// stepError reports whether a failed step already printed the scenario's error.
func stepError(s *model.ScenarioResult) bool {
	for _, st := range s.Steps {
		if st.Error != "" && strings.HasSuffix(s.Error, st.Error) {
			return true
		}
	}
	return false
}

func seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// kindOn is a step's kind, and the cluster it ran on when it is one of the
// scenario's named clusters: "apply on standby".
func kindOn(st *model.StepResult) string {
	if st.Cluster == "" {
		return st.Kind
	}
	return st.Kind + " on " + st.Cluster
}

// outageLine says when the control plane could not serve the run, for how
// long, and which steps waited for it.
func outageLine(o model.Outage) string {
	line := fmt.Sprintf("control plane unavailable at %s", o.Start.Local().Format("15:04:05"))
	if o.End.IsZero() {
		line += " (still at the end of the run)"
	} else {
		line += fmt.Sprintf(" for %.1fs", o.Seconds)
	}
	if len(o.Steps) > 0 {
		line += "; steps that waited: " + strings.Join(o.Steps, ", ")
	}
	return line + ": " + o.Error
}
