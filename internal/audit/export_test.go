package audit

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
