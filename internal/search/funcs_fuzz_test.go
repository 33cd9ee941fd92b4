package search

import (
	"testing"
)

// FuzzFormats: the format-driven functions (strptime, strftime, printf,
// the JSON paths, sed) never panic, whatever the text and format; values
// over the limit stop with an evalError, which is not a crash.
func FuzzFormats(f *testing.F) {
	f.Add("2026-01-02T12:00:00.250+0100", "%Y-%m-%dT%H:%M:%S.%3N%z", 1767355200.125)
	f.Add("Jan 2 2026 1:05:09 PM", "%b %d %Y %I:%M:%S %p", -1.5)
	f.Add(`{"a":{"b":[1,2,{"c":"x"}]}}`, "a.b{2}.c", 3.0)
	f.Add("%05.2f|%-4s|%x|%'d|%*d|%c", "%%%9999d", 1e300)
	f.Fuzz(func(t *testing.T, s, format string, n float64) {
		_, _ = runExpr(func(*Row) Value {
			strptime(s, format)
			strftime(epochTime(0), format)
			if n > -1e13 && n < 1e13 {
				strftime(epochTime(n), format)
			}
			splPrintf([]Value{StrValue(format), StrValue(s), NumValue(n), NullValue})
			splPrintf([]Value{StrValue(s), NumValue(n)})
			jsonExtract(StrValue(s), []Value{StrValue(format)})
			spathValue(StrValue(s), format)
			parseSpan(format)
			return NullValue
		}, nil)
	})
}
