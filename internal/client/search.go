package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/wire"
)

// SearchHandler receives a search's frames as they arrive. Either func may
// be nil. An error from Row stops the search (the request is closed, which
// cancels it on the server).
type SearchHandler struct {
	Row      func(wire.Row) error
	Progress func(wire.SearchProgress)
}

var rowPrefix = []byte(`{"row":`)

// maxFrame bounds one NDJSON frame (one result row).
const maxFrame = 64 << 20

// Search runs spl in app ("" for the client's app) and streams its frames
// to h. It returns the final frame; a syntax error, a limit or an error
// frame is returned as an error of the matching errdefs kind. Cancelling
// ctx cancels the search on the server.
func (c *Client) Search(ctx context.Context, spl, app string, h SearchHandler) (wire.SearchDone, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // an early return closes the stream and stops the search
	b, err := json.Marshal(wire.SearchRequest{Search: spl, App: app})
	if err != nil {
		return wire.SearchDone{}, err
	}
	resp, err := c.Raw(ctx, "POST", "/v1/search", bytes.NewReader(b), "application/json")
	if err != nil {
		return wire.SearchDone{}, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxFrame)
	for {
		if !sc.Scan() {
			switch err := sc.Err(); {
			case ctx.Err() != nil:
				return wire.SearchDone{}, ctx.Err()
			case err != nil:
				return wire.SearchDone{}, fmt.Errorf("reading the search's results: %w", err)
			}
			return wire.SearchDone{}, errdefs.Unavailable("the search's results were cut off before the server said it was done: run it again")
		}
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if h.Row != nil && bytes.HasPrefix(line, rowPrefix) && bytes.HasSuffix(line, []byte("}")) {
			// Fast path for the frame that matters: most of a stream is rows.
			var r wire.Row
			if r.UnmarshalJSON(line[len(rowPrefix):len(line)-1]) == nil {
				if err := h.Row(r); err != nil {
					return wire.SearchDone{}, err
				}
				continue
			}
		}
		var f wire.SearchFrame
		if err := json.Unmarshal(line, &f); err != nil {
			return wire.SearchDone{}, fmt.Errorf("the server sent a search frame that is not valid JSON: %w", err)
		}
		switch {
		case f.Row != nil:
			if h.Row != nil {
				if err := h.Row(*f.Row); err != nil {
					return wire.SearchDone{}, err
				}
			}
		case f.Progress != nil:
			if h.Progress != nil {
				h.Progress(*f.Progress)
			}
		case f.Done != nil:
			return *f.Done, nil
		case f.Error != nil:
			return wire.SearchDone{}, ErrorOfCode(f.Error.Code, f.Error.Message)
		}
	}
}

// SearchAll runs spl and returns every result row with the messages.
func (c *Client) SearchAll(ctx context.Context, spl, app string) (wire.SearchResults, error) {
	out := wire.SearchResults{Results: []wire.Row{}}
	done, err := c.Search(ctx, spl, app, SearchHandler{Row: func(r wire.Row) error {
		out.Results = append(out.Results, r)
		return nil
	}})
	if err != nil {
		return out, err
	}
	out.Messages = done.Messages
	if out.Messages == nil {
		out.Messages = []string{}
	}
	return out, nil
}

// ErrorOfCode turns a wire error code and message into an error of the
// matching errdefs kind, by the API's one mapping (errhttp.API).
func ErrorOfCode(code, msg string) error {
	return errhttp.API.Decode(0, code, msg)
}
