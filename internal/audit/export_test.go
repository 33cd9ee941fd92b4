package audit

import (
	"crypto/ed25519"
	"encoding/base64"

	"github.com/dockyard/dockyard/internal/store"
)

// Test hooks for the external tests, which play an attacker who knows the
// chain's format.

// LinkHashForTest is linkHash over a body as stored.
func LinkHashForTest(prev, body string) string {
	c, err := canonical([]byte(body))
	if err != nil {
		panic(err)
	}
	return linkHash(prev, c)
}

// FormatBodyForTest renders a stored body as its searchable text.
func FormatBodyForTest(body string) string {
	c, err := decodeBody([]byte(body))
	if err != nil {
		panic(err)
	}
	return FormatLine(c.Seq, c.Event)
}

// LinkMACForTest is the MAC of a link under key.
func LinkMACForTest(key []byte, seq int64, hash string) string { return linkMAC(key, seq, hash) }

// SignCheckpointForTest signs cp as the server would.
func SignCheckpointForTest(priv ed25519.PrivateKey, cp store.AuditCheckpoint) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(priv, checkpointMessage(cp)))
}
