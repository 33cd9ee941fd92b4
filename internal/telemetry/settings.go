package telemetry

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// DefaultTokenHeader is the header that carries the access token when
// Settings.TokenHeader is empty; its value is then "Bearer <token>".
const DefaultTokenHeader = "Authorization"

// Settings say where and how spans are exported.
type Settings struct {
	Enabled bool
	// Endpoint is the OTLP/HTTP collector: an http(s) URL (its path, if
	// any, is used as is; without one, /v1/traces is added) or HOST:PORT
	// (then https://HOST:PORT/v1/traces).
	Endpoint string
	// Token is the access token sent with every export; empty sends none.
	Token string
	// TokenHeader names the header that carries the token. Empty or
	// "Authorization" sends "Authorization: Bearer <token>"; any other
	// name sends the token as the header's whole value (as vendors such as
	// "x-honeycomb-team" or "Api-Key" expect).
	TokenHeader string
	// ServiceName is reported as the resource's service.name.
	ServiceName string
}

// String never shows the token.
func (s Settings) String() string {
	return fmt.Sprintf("enabled=%t endpoint=%q service_name=%q token_header=%q token_set=%t",
		s.Enabled, s.Endpoint, s.ServiceName, s.TokenHeader, s.Token != "")
}

func (s Settings) serviceName() string {
	if s.ServiceName == "" {
		return Namespace
	}
	return s.ServiceName
}

// header returns the header map that carries the token, or nil.
func (s Settings) header() map[string]string {
	if s.Token == "" {
		return nil
	}
	name := http.CanonicalHeaderKey(strings.TrimSpace(s.TokenHeader))
	if name == "" || name == DefaultTokenHeader {
		return map[string]string{DefaultTokenHeader: "Bearer " + s.Token}
	}
	return map[string]string{name: s.Token}
}

// TraceURL is the URL spans are posted to.
func (s Settings) TraceURL() (*url.URL, error) {
	ep := strings.TrimSpace(s.Endpoint)
	if ep == "" {
		return nil, errdefs.Invalid("observability: tracing is enabled but no endpoint is set: pass --endpoint https://COLLECTOR:4318")
	}
	if !strings.Contains(ep, "://") {
		if _, _, err := net.SplitHostPort(ep); err != nil {
			return nil, errdefs.Invalidf("observability endpoint %q is neither an http(s) URL nor HOST:PORT", ep)
		}
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errdefs.Invalidf("observability endpoint %q is neither an http(s) URL nor HOST:PORT", s.Endpoint)
	}
	if u.User != nil {
		return nil, errdefs.Invalid("observability endpoint must not hold credentials: give the token with --token-stdin instead")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u, nil
}

// Validate checks the settings. A token is only sent over https, or over
// plain http to a loopback address (a collector on the same machine).
func (s Settings) Validate() error {
	if len(s.ServiceName) > 255 || strings.ContainsAny(s.ServiceName, "\r\n") {
		return errdefs.Invalid("observability service name must be one line of at most 255 characters")
	}
	if strings.ContainsAny(s.Token, "\r\n") || len(s.Token) > 4096 {
		return errdefs.Invalid("observability token must be one line of at most 4096 characters")
	}
	if h := strings.TrimSpace(s.TokenHeader); h != "" && !validHeaderName(h) {
		return errdefs.Invalidf("observability token header %q is not a valid HTTP header name", h)
	}
	if !s.Enabled && s.Endpoint == "" {
		return nil
	}
	u, err := s.TraceURL()
	if err != nil {
		return err
	}
	if s.Token != "" && u.Scheme == "http" && !loopback(u.Hostname()) {
		return errdefs.Invalidf("observability endpoint %s uses plain http: the token would travel unencrypted; use https (plain http is allowed only for a collector on a loopback address)", u.Redacted())
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validHeaderName(h string) bool {
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}
