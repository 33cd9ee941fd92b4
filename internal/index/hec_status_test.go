package index

import "testing"

// TestHECStatuses: each HEC code answers the HTTP status Splunk's HTTP
// Event Collector gives it, though the status comes from the code's error
// kind.
func TestHECStatuses(t *testing.T) {
	splunk := map[int]int{
		HECSuccess: 200, HECTokenDisabled: 403, HECTokenRequired: 401, HECInvalidAuth: 401,
		HECInvalidToken: 403, HECNoData: 400, HECInvalidFormat: 400, HECIncorrectIndex: 400,
		HECInternalError: 500, HECServerBusy: 503, HECChannelMissing: 400, HECInvalidChannel: 400,
		HECEventRequired: 400, HECEventBlank: 400, HECAckDisabled: 400, HECBadIndexedFields: 400,
		HECQueryStringAuth: 400, HECHealthy: 200,
	}
	if len(splunk) != len(hecAnswers) {
		t.Fatalf("%d HEC codes, %d with Splunk's status here", len(hecAnswers), len(splunk))
	}
	for code, want := range splunk {
		a, ok := hecAnswers[code]
		if !ok {
			t.Errorf("HEC code %d has no answer", code)
			continue
		}
		if got := a.status(); got != want {
			t.Errorf("HEC code %d (%s): status %d, want %d", code, a.text, got, want)
		}
	}
}
