package search

import (
	"strconv"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// ParseTime parses an earliest=/latest= value relative to now: "now", "0"
// (all time: the zero time), relative offsets such as -24h, -7d, -30m, +1h
// or -1mon, each optionally followed by a snap such as @d (to the start of
// the day), a bare snap such as @h, an epoch in seconds, or an absolute time
// in RFC 3339, 2006-01-02T15:04:05, 2006-01-02 or 01/02/2006:15:04:05.
func ParseTime(s string, now time.Time) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, errdefs.Invalidf("time %q: expected now, -24h, -7d@d, @h, an epoch or 2024-01-02T15:04:05Z", s)
	}
	switch {
	case s == "now":
		return now, nil
	case s == "0":
		return time.Time{}, nil
	case s == "":
		return bad()
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && s[0] != '-' && s[0] != '+' {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "01/02/2006:15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	rel, snap, hasSnap := strings.Cut(s, "@")
	t := now
	if rel != "" {
		sign := 1
		switch rel[0] {
		case '-':
			sign = -1
		case '+':
		default:
			return bad()
		}
		rel = rel[1:]
		i := 0
		for i < len(rel) && rel[i] >= '0' && rel[i] <= '9' {
			i++
		}
		n := 1
		if i > 0 {
			n, _ = strconv.Atoi(rel[:i])
		}
		var ok bool
		if t, ok = addUnit(t, rel[i:], sign*n); !ok {
			return bad()
		}
	}
	if hasSnap {
		var ok bool
		if t, ok = snapTo(t, snap); !ok {
			return bad()
		}
	}
	return t, nil
}

func unitOf(u string) string {
	switch u {
	case "s", "sec", "secs", "second", "seconds":
		return "s"
	case "m", "min", "mins", "minute", "minutes":
		return "m"
	case "h", "hr", "hrs", "hour", "hours":
		return "h"
	case "d", "day", "days":
		return "d"
	case "w", "week", "weeks":
		return "w"
	case "mon", "month", "months":
		return "mon"
	case "y", "yr", "yrs", "year", "years":
		return "y"
	}
	return ""
}

func addUnit(t time.Time, u string, n int) (time.Time, bool) {
	switch unitOf(u) {
	case "s":
		return t.Add(time.Duration(n) * time.Second), true
	case "m":
		return t.Add(time.Duration(n) * time.Minute), true
	case "h":
		return t.Add(time.Duration(n) * time.Hour), true
	case "d":
		return t.AddDate(0, 0, n), true
	case "w":
		return t.AddDate(0, 0, 7*n), true
	case "mon":
		return t.AddDate(0, n, 0), true
	case "y":
		return t.AddDate(n, 0, 0), true
	}
	return t, false
}

func snapTo(t time.Time, u string) (time.Time, bool) {
	y, mo, d := t.Date()
	loc := t.Location()
	switch unitOf(u) {
	case "s":
		return t.Truncate(time.Second), true
	case "m":
		return time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, loc), true
	case "h":
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc), true
	case "d":
		return time.Date(y, mo, d, 0, 0, 0, 0, loc), true
	case "w":
		return time.Date(y, mo, d-int(t.Weekday()), 0, 0, 0, 0, loc), true
	case "mon":
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc), true
	case "y":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), true
	}
	return t, false
}
