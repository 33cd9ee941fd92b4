package audit

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// Redacted replaces the value of every detail whose key looks like a secret.
const Redacted = "[REDACTED]"

// secretKeyRE matches detail keys that name a secret.
var secretKeyRE = regexp.MustCompile(`(?i)(passw|passwd|pwd|token|secret|key|authorization|credential|cookie|private)`)

// safeKeyRE matches keys that merely refer to a secret by a public handle.
var safeKeyRE = regexp.MustCompile(`(?i)(_id|_name|last4|_count|_fingerprint)$`)

// secretTextRE finds "password=...", "token: ..." and the like in free text;
// authorization values keep their scheme word out of the text too.
var secretTextRE = regexp.MustCompile(`(?i)\b(authorization\s*[=:]\s*(?:(?:splunk|bearer|basic)\s+)?|[a-z_]*(?:passw(?:or)?d|token|secret|api[_-]?key|private[_-]?key)\s*[=:]\s*)("[^"]*"|\S+)`)

// SecretKey reports whether a detail key looks like it holds a secret.
func SecretKey(k string) bool {
	return secretKeyRE.MatchString(k) && !safeKeyRE.MatchString(k)
}

// RedactText replaces secret-looking key=value and key: value pairs in s.
func RedactText(s string) string {
	return secretTextRE.ReplaceAllString(s, "${1}"+Redacted)
}

// redactDetails returns details as plain JSON values (maps, slices,
// strings, json.Number, bools) with every secret-looking key's value, at any
// depth, replaced by Redacted and secret-looking pairs in strings redacted.
func redactDetails(d map[string]any) (map[string]any, error) {
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
	return redactValue(out).(map[string]any), nil
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			if SecretKey(k) {
				x[k] = Redacted
			} else {
				x[k] = redactValue(vv)
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = redactValue(x[i])
		}
		return x
	case string:
		if strings.ContainsAny(x, "=:") {
			return RedactText(x)
		}
	}
	return v
}
