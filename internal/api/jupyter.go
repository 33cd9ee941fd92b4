package api

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/containers"
	"github.com/dockyard/dockyard/internal/errdefs"
)

// JupyterAPI proxies the Jupyter server of each development container at
// /jupyter/OWNER/NAME/ (HTTP and the kernels' WebSockets) to the
// container's agent, which proxies it on to Jupyter with Jupyter's own
// token: the caller authenticates to Dockyard (bearer token, or the web
// session), never to Jupyter, and neither Jupyter's token nor the caller's
// credentials cross into the container. Only the container's owner and
// administrators get through; anyone else is told the container does not
// exist (404), as for a name that does not exist.
type JupyterAPI struct {
	*API
	Containers *containers.Service
	// Transport reaches the agents: the server CA, the server's client
	// certificate, HTTP/1.1 (so that WebSocket upgrades pass).
	Transport http.RoundTripper
}

// jupyterPattern is the path the routes serve.
const jupyterPattern = containers.JupyterPrefix + "{owner}/{name}/{rest...}"

// Routes lists the Jupyter proxy's routes: one per method Jupyter uses.
func (j *JupyterAPI) Routes() []Route {
	var rs []Route
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		// Browser: a browser reaches Jupyter with the web console's
		// session cookie (and a same-origin check on every request,
		// WebSocket upgrades included: jupyterSameOrigin).
		rs = append(rs, Route{Method: m, Pattern: jupyterPattern, Cap: access.CapControlContainer, Action: "container.jupyter", Handle: j.proxy, Browser: true})
	}
	return rs
}

var (
	// jupyterOwnerSegment is a user name (access's names).
	jupyterOwnerSegment = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	// jupyterNameSegment is a container name or __dev__.
	jupyterNameSegment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// jupyterTarget reads owner, name and the rest of a proxied path and
// refuses anything that could leave the container's base URL: encoded
// slashes or backslashes, '.' and '..' segments, empty segments,
// control characters.
func jupyterTarget(r *http.Request) (owner, name, rest string, err error) {
	owner, name, rest = r.PathValue("owner"), r.PathValue("name"), r.PathValue("rest")
	bad := func(why string) (string, string, string, error) {
		return "", "", "", errdefs.Invalidf("Jupyter path %q refused: %s; open the URL `dockyard containers open` prints", r.URL.EscapedPath(), why)
	}
	esc := strings.ToLower(r.URL.EscapedPath())
	if strings.Contains(esc, "%2f") || strings.Contains(esc, "%5c") || strings.Contains(esc, "%00") {
		return bad("encoded slashes, backslashes and NUL are not allowed")
	}
	if !jupyterOwnerSegment.MatchString(owner) || !jupyterNameSegment.MatchString(name) {
		return bad("the owner and container name are not valid names")
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		if s == "." || s == ".." || s == "" && i != len(segs)-1 {
			return bad("'.', '..' and empty segments are not allowed")
		}
		for _, c := range s {
			if c < 0x20 || c == 0x7f || c == '\\' {
				return bad("control characters and backslashes are not allowed")
			}
		}
	}
	return owner, name, rest, nil
}

// jupyterSameOrigin refuses a request a browser sent from another site (its
// Origin is not this server): the web session cookie would otherwise let
// any site open a kernel in the user's container.
func jupyterSameOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" {
		return nil
	}
	u, err := url.Parse(o)
	if err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	return errdefs.PermissionDeniedf("permission denied: a request from origin %q cannot use this server's Jupyter; open it from the server's own address", o)
}

// isJupyterUpgrade reports a WebSocket (or other protocol) upgrade request.
func isJupyterUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return true
			}
		}
	}
	return false
}

func (j *JupyterAPI) proxy(w http.ResponseWriter, r *http.Request) error {
	owner, name, rest, err := jupyterTarget(r)
	if err != nil {
		return err
	}
	p := access.FromContext(r.Context())
	if err := jupyterSameOrigin(r); err != nil {
		j.record(r, audit.Event{Action: "container.jupyter", Object: "container:" + owner + "/" + name, Result: audit.ResultDenied, Message: err.Error()})
		return err
	}
	r = r.WithContext(containers.WithAuditInfo(r.Context(), containers.AuditInfo{Source: remoteHost(r), RequestID: RequestID(r.Context())}))
	t, err := j.Containers.Jupyter(r.Context(), p, owner, name)
	if err != nil {
		return err
	}
	if bearer(r) == "" && p.User != owner {
		// A browser session (the console's cookie) opens only its own
		// user's Jupyter: another user's code runs in that page at this
		// server's origin and would act with the visitor's session.
		err := errdefs.PermissionDeniedf("an administrator opens another user's Jupyter with a bearer token (a script or `curl -H 'Authorization: Bearer ...'`), not from the browser session: %s's code runs in that page at this server's origin and would act as you", owner)
		j.record(r, audit.Event{Action: "container.jupyter", Object: "container:" + owner + "/" + name, Result: audit.ResultDenied, Message: err.Error()})
		return err
	}
	endpoint, err := url.Parse(t.Endpoint)
	if err != nil {
		return errdefs.Unavailablef("container %s/%s: its agent's address %q: %w", owner, name, t.Endpoint, err)
	}
	if isJupyterUpgrade(r) {
		// A kernel or terminal channel: code runs from here on.
		j.Containers.AuditJupyter(r.Context(), p, t.Record, t.BasePath+rest)
	}
	var proxyErr error
	rp := &httputil.ReverseProxy{
		Transport: j.Transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = endpoint.Scheme, endpoint.Host, endpoint.Host
			pr.Out.URL.Path, pr.Out.URL.RawPath = t.BasePath+rest, ""
			// The caller's credentials stay here; the agent gets its own
			// token (and Jupyter, from the agent, its own).
			for _, h := range []string{"Authorization", "Cookie", "Dockyard-App", "Origin", "Referer"} {
				pr.Out.Header.Del(h)
			}
			pr.Out.Header.Set("Authorization", "Bearer "+t.Token)
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Del("Set-Cookie")
			return nil
		},
		// Called before anything was written: the API answers the error.
		ErrorHandler: func(_ http.ResponseWriter, _ *http.Request, err error) { proxyErr = err },
	}
	rp.ServeHTTP(w, r)
	if proxyErr != nil {
		return errdefs.Unavailablef("the agent of container %s/%s did not answer for Jupyter (%v): see `dockyard containers logs %s`", owner, name, proxyErr, containers.DevName)
	}
	return nil
}
