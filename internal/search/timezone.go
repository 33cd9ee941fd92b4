package search

import (
	"strconv"
	"time"
)

// parseOffset reads Z, ±hh, ±hhmm or ±hh:mm at s[*i].
func parseOffset(s string, i *int) (*time.Location, bool) {
	j := *i
	if j < len(s) && (s[j] == 'Z' || s[j] == 'z') {
		*i = j + 1
		return time.UTC, true
	}
	if j >= len(s) || s[j] != '+' && s[j] != '-' {
		return nil, false
	}
	sign := 1
	if s[j] == '-' {
		sign = -1
	}
	j++
	digits := func(n int) (int, bool) {
		if j+n > len(s) {
			return 0, false
		}
		v, err := strconv.Atoi(s[j : j+n])
		if err != nil {
			return 0, false
		}
		j += n
		return v, true
	}
	h, ok := digits(2)
	if !ok {
		return nil, false
	}
	m := 0
	if j < len(s) && s[j] == ':' {
		j++
	}
	if j+2 <= len(s) && isDigitByte(s[j]) {
		if m, ok = digits(2); !ok {
			return nil, false
		}
	}
	*i = j
	off := sign * (h*3600 + m*60)
	if off == 0 {
		return time.UTC, true
	}
	return time.FixedZone(zoneName(off), off), true
}

func zoneName(off int) string {
	t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", off))
	return zoneOffset(t, false)
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }
func isAlnumByte(c byte) bool {
	return isDigitByte(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
