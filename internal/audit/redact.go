package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Redacted replaces the value of every detail whose key looks like a secret.
const Redacted = "[REDACTED]"

// secretKeyRE matches detail keys that name a secret.
var secretKeyRE = regexp.MustCompile(`(?i)(passw|passwd|pwd|token|secret|key|authorization|credential|cookie|private)`)

// safeKeyRE matches keys that merely refer to a secret by a public handle.
var safeKeyRE = regexp.MustCompile(`(?i)(_id|_name|last4|_count|_fingerprint|keyed_from)$`)

// secretTextRE finds "password=...", "token: ...", "api_key=..." and the
// like in free text; authorization values keep their scheme word out of the
// text too.
var secretTextRE = regexp.MustCompile(`(?i)\b(authorization\s*[=:]\s*(?:(?:splunk|bearer|basic)\s+)?|[a-z_.-]*(?:passw(?:or)?d|pwd|token|secret|credentials?|key)["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)`)

// Patterns of secrets that need no "key=" in front of them.
var (
	pemRE        = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)`)
	schemeRE     = regexp.MustCompile(`(?i)\b(bearer|splunk|basic)\s+[A-Za-z0-9._~+/=-]{6,}`)
	awsKeyRE     = regexp.MustCompile(`\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b`)
	urlUserinfoR = regexp.MustCompile(`(://[^/\s:@]+:)[^/\s@]+@`)
)

// SecretKey reports whether a detail key looks like it holds a secret.
func SecretKey(k string) bool {
	return secretKeyRE.MatchString(k) && !safeKeyRE.MatchString(k)
}

// RedactText replaces secret-looking values in s: key=value and key: value
// pairs whose key names a secret (password, token, secret, key, ...),
// "Bearer ..." and the like, AWS access key ids, PEM blocks and passwords in
// URLs. It is meant for messages and tracebacks.
func RedactText(s string) string {
	if s == "" {
		return s
	}
	s = pemRE.ReplaceAllString(s, Redacted)
	s = secretTextRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := secretTextRE.FindStringSubmatch(m)
		if sub[2] == Redacted {
			return m
		}
		return sub[1] + Redacted
	})
	s = schemeRE.ReplaceAllStringFunc(s, func(m string) string {
		// "Bearer eyJ...", "Splunk 1a2b-...": a credential has a digit or is
		// long; "basic training" is prose.
		sub := schemeRE.FindStringSubmatch(m)
		tok := strings.TrimSpace(m[len(sub[1]):])
		if len(tok) < 12 && !strings.ContainsAny(tok, "0123456789") {
			return m
		}
		return sub[1] + " " + Redacted
	})
	s = awsKeyRE.ReplaceAllString(s, Redacted)
	s = urlUserinfoR.ReplaceAllString(s, "${1}"+Redacted+"@")
	return s
}

// capText cuts s to at most n bytes on a rune boundary, saying how long it
// was; n <= 0 leaves s whole.
func capText(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf(" [truncated: %d bytes in all]", len(s))
}

// redactDetails returns details as plain JSON values (maps, slices,
// strings, json.Number, bools) with every secret-looking key's value, at any
// depth, replaced by Redacted, secret-looking values in strings redacted and
// strings capped at maxText bytes.
func redactDetails(d map[string]any, maxText int) (map[string]any, error) {
	if len(d) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return redactValue(out, maxText).(map[string]any), nil
}

func redactValue(v any, maxText int) any {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			if SecretKey(k) {
				x[k] = Redacted
			} else {
				x[k] = redactValue(vv, maxText)
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = redactValue(x[i], maxText)
		}
		return x
	case string:
		return capText(RedactText(x), maxText)
	}
	return v
}
