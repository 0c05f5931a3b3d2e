package main

import "log/slog"

// The run's log: its level, and Secret values kept out of it.

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, usagef("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// redactAttr hides the values of Secrets the run has seen from its logs.
func (o *RunOptions) redactAttr(_ []string, a slog.Attr) slog.Attr {
	if o.cluster == nil {
		return a
	}
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(o.cluster.Redactor.String(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(o.cluster.Redactor.String(err.Error()))
		}
	}
	return a
}
