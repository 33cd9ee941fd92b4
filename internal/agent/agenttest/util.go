package agenttest

import (
	"bytes"
	"io"
)

func bytesReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}
