package agent

import "net/http"

// WriteErrorForTest is the agent's error writer.
func WriteErrorForTest(w http.ResponseWriter, err error) { writeError(w, err) }
