package search

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Splunk's time format letters, for strftime and strptime. Times are
// formatted and parsed in UTC unless the format or the text carries a zone
// (Splunk uses the searching user's time zone; Dockyard has none per user).

// epochTime converts an epoch in seconds (with a fraction) to a UTC time.
// The fraction is rounded to microseconds: a float64 epoch of today holds
// no finer digits, and without rounding .089 came back as .088999.
func epochTime(f float64) time.Time {
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64(math.Round((f-sec)*1e6))*1e3).UTC()
}

// timeEpoch converts a time to epoch seconds with its fraction.
func timeEpoch(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// fmtWidth reads an optional digit width before a format letter at f[i];
// it returns the width (0: none) and the index of the letter.
func fmtWidth(f string, i int) (int, int) {
	w := 0
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		w = w*10 + int(f[i]-'0')
		i++
	}
	return w, i
}

// subsec formats the fraction of a second of t with w digits (1 to 9).
func subsec(t time.Time, w int) string {
	w = max(1, min(w, 9))
	s := strconv.Itoa(t.Nanosecond() + 1e9)[1:]
	return s[:w]
}

func zoneOffset(t time.Time, colon bool) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	sep := ""
	if colon {
		sep = ":"
	}
	return string(sign) + pad2(off/3600) + sep + pad2(off%3600/60)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// strftime formats t with Splunk's format letters.
func strftime(t time.Time, f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		colon := false
		if f[i] == ':' && i+1 < len(f) && f[i+1] == 'z' {
			colon = true
			i++
		}
		w, j := fmtWidth(f, i)
		if j >= len(f) {
			b.WriteString(f[i-1:])
			break
		}
		i = j
		switch f[i] {
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'c':
			b.WriteString(t.Format("Mon Jan _2 15:04:05 2006"))
		case '+':
			b.WriteString(t.Format("Mon Jan _2 15:04:05 MST 2006"))
		case 'C':
			b.WriteString(pad2(t.Year() / 100))
		case 'd':
			b.WriteString(pad2(t.Day()))
		case 'e':
			b.WriteString(t.Format("_2"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'H':
			b.WriteString(pad2(t.Hour()))
		case 'k':
			if t.Hour() < 10 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(t.Hour()))
		case 'I':
			b.WriteString(t.Format("03"))
		case 'j':
			b.WriteString(t.Format("002"))
		case 'm':
			b.WriteString(pad2(int(t.Month())))
		case 'M':
			b.WriteString(pad2(t.Minute()))
		case 'N':
			if w == 0 {
				w = 9
			}
			b.WriteString(subsec(t, w))
		case 'Q':
			if w == 0 {
				w = 3
			}
			b.WriteString(subsec(t, w))
		case 'f':
			b.WriteString(subsec(t, 6))
		case 'p':
			b.WriteString(t.Format("PM"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'S':
			b.WriteString(pad2(t.Second()))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'V':
			_, wk := t.ISOWeek()
			b.WriteString(pad2(wk))
		case 'U':
			b.WriteString(pad2((t.YearDay() + 6 - int(t.Weekday())) / 7))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'z':
			b.WriteString(zoneOffset(t, colon))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// strptime parses s with Splunk's format letters and returns the time; ok
// is false when s does not match the format. Text after the format's end
// is ignored. Without a zone in the text the time is UTC.
func strptime(s, f string) (time.Time, bool) {
	year, month, day := 1970, 1, 1
	hour, minute, sec, nsec := 0, 0, 0, 0
	pm, hasPM := false, false
	loc := time.UTC
	var epoch *int64
	si := 0
	num := func(maxDigits int) (int, bool) {
		j := si
		neg := false
		if j < len(s) && (s[j] == '-' || s[j] == '+') && maxDigits > 4 {
			neg = s[j] == '-'
			j++
		}
		start := j
		for j < len(s) && j-start < maxDigits && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == start {
			return 0, false
		}
		n, _ := strconv.Atoi(s[start:j])
		si = j
		if neg {
			n = -n
		}
		return n, true
	}
	word := func(names []string) (int, bool) {
		for i, n := range names {
			if len(s)-si >= len(n) && strings.EqualFold(s[si:si+len(n)], n) {
				si += len(n)
				return i, true
			}
		}
		return 0, false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' || i+1 == len(f) {
			if isSpaceByte(c) {
				for si < len(s) && isSpaceByte(s[si]) {
					si++
				}
				continue
			}
			if si >= len(s) || s[si] != c {
				return time.Time{}, false
			}
			si++
			continue
		}
		i++
		if f[i] == ':' && i+1 < len(f) && f[i+1] == 'z' {
			i++
		}
		w, j := fmtWidth(f, i)
		if j >= len(f) {
			return time.Time{}, false
		}
		i = j
		ok := true
		switch f[i] {
		case 'Y':
			year, ok = num(4)
		case 'y':
			var y int
			if y, ok = num(2); ok {
				year = 1900 + y
				if y < 69 {
					year = 2000 + y
				}
			}
		case 'm':
			month, ok = num(2)
		case 'd', 'e':
			for si < len(s) && s[si] == ' ' {
				si++
			}
			day, ok = num(2)
		case 'j':
			var yd int
			if yd, ok = num(3); ok {
				month, day = 1, yd
			}
		case 'H', 'k', 'I':
			for si < len(s) && s[si] == ' ' {
				si++
			}
			hour, ok = num(2)
		case 'M':
			minute, ok = num(2)
		case 'S':
			sec, ok = num(2)
		case 'N', 'Q', 'f':
			if w == 0 {
				w = 9
			}
			start := si
			var n int
			if n, ok = num(w); ok {
				for d := si - start; d < 9; d++ {
					n *= 10
				}
				nsec = n
			}
		case 's':
			var n int
			if n, ok = num(19); ok {
				e := int64(n)
				epoch = &e
			}
		case 'p':
			var k int
			k, ok = word([]string{"AM", "PM"})
			pm, hasPM = k == 1, true
		case 'b', 'h', 'B':
			var k int
			if k, ok = word(longMonths); !ok {
				k, ok = word(shortMonths)
			}
			month = k + 1
		case 'a', 'A':
			if _, ok = word(longDays); !ok {
				_, ok = word(shortDays)
			}
		case 'z':
			loc, ok = parseOffset(s, &si)
		case 'Z':
			j := si
			for j < len(s) && (isAlnumByte(s[j]) || s[j] == '/' || s[j] == '_') {
				j++
			}
			name := s[si:j]
			si = j
			switch strings.ToUpper(name) {
			case "UTC", "GMT", "Z":
				loc = time.UTC
			default:
				l, err := time.LoadLocation(name)
				if err != nil {
					return time.Time{}, false
				}
				loc = l
			}
		case 'T':
			var t time.Time
			if t, ok = strptime(s[si:], "%H:%M:%S"); ok {
				hour, minute, sec = t.Hour(), t.Minute(), t.Second()
				si += 8
			}
		case 'F':
			var t time.Time
			if t, ok = strptime(s[si:], "%Y-%m-%d"); ok {
				y, mo, d := t.Date()
				year, month, day = y, int(mo), d
				si += len(t.Format("2006-01-02"))
			}
		case '%':
			ok = si < len(s) && s[si] == '%'
			si++
		default:
			return time.Time{}, false
		}
		if !ok {
			return time.Time{}, false
		}
	}
	if epoch != nil {
		return time.Unix(*epoch, int64(nsec)).UTC(), true
	}
	if hasPM {
		if hour < 1 || hour > 12 {
			return time.Time{}, false
		}
		hour %= 12
		if pm {
			hour += 12
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 366 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}

var (
	shortMonths = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	shortDays   = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays    = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)
