package audit

import "context"

type requestKey struct{}

// Request is where a request came from, for the events recorded while it
// is served.
type Request struct {
	Source string // the client's address
	ID     string // the API's request id
}

// WithRequest returns a context carrying the request's source and id, so
// that services recording events deep inside a request can name them.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request ctx carries (zero when none).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}
