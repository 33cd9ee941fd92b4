// Package client is the Go client of Dockyard's HTTP API, used by the CLI,
// the agent and tests. It always verifies the server's certificate against
// the CA bundle it is given (or the system roots) and maps error answers
// back to errdefs kinds.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/errdefs/errhttp"
	"github.com/dockyard/dockyard/internal/wire"
)

// Client talks to one Dockyard server.
type Client struct {
	base   *url.URL
	http   *http.Client
	token  string
	app    string
	caFile string
}

// Options configure a Client.
type Options struct {
	Server string // https://host:port
	CAFile string // PEM bundle that verifies the server; empty: system roots
	Token  string
	App    string
	// Timeout bounds requests that are not streamed; 0 means none.
	Timeout time.Duration
}

// New returns a client. It never disables certificate verification.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.Server, "/"))
	if err != nil || u.Host == "" {
		return nil, errdefs.Invalidf("server URL %q is not valid: pass --server https://HOST:PORT", o.Server)
	}
	if u.Scheme != "https" {
		return nil, errdefs.Invalidf("server URL %q must use https: Dockyard only speaks TLS", o.Server)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, errdefs.Invalidf("CA file: %w; pass --ca-file with the server's ca.pem", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errdefs.Invalidf("CA file %s holds no PEM certificate; pass --ca-file with the server's ca.pem", o.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	return &Client{
		base:   u,
		http:   &http.Client{Transport: tr, Timeout: o.Timeout},
		token:  o.Token,
		app:    o.App,
		caFile: o.CAFile,
	}, nil
}

// Server returns the server URL.
func (c *Client) Server() string { return c.base.String() }

// SetToken changes the bearer token.
func (c *Client) SetToken(t string) { c.token = t }

// Do sends a request with an optional JSON body and decodes a JSON answer
// into out (when out is not nil).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.Raw(ctx, method, path, body, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// Raw sends a request and returns the response when its status is 2xx; the
// caller closes the body. Any other status becomes an error of the matching
// errdefs kind carrying the server's message.
func (c *Client) Raw(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	u := c.base.JoinPath(path)
	if i := strings.IndexByte(path, '?'); i >= 0 {
		u = c.base.JoinPath(path[:i])
		u.RawQuery = path[i+1:]
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.app != "" {
		req.Header.Set("Dockyard-App", c.app)
	}
	req.Header.Set("Dockyard-Protocol", wire.ProtocolVersion)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, decodeError(resp)
}

// decodeError reads an error answer back into an error of its kind, by
// the API's one mapping (errhttp.API), with the server's message.
func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e wire.Error
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if msg == "" {
		msg = resp.Status
	}
	return errhttp.API.Decode(resp.StatusCode, e.Code, msg)
}

// transportError turns a certificate failure into advice.
func (c *Client) transportError(err error) error {
	var uae x509.UnknownAuthorityError
	var hve x509.HostnameError
	var cie x509.CertificateInvalidError
	var tve *tls.CertificateVerificationError
	switch {
	case errors.As(err, &uae) || errors.As(err, &tve) && !errors.As(err, &hve) && !errors.As(err, &cie):
		if c.caFile == "" {
			return errdefs.Unavailablef("cannot verify the server %s: its certificate is not signed by a CA this machine trusts. "+
				"Pass --ca-file DIR/pki/ca.pem (or set DOCKYARD_CA_FILE) and check that its SHA-256 fingerprint is the one the server printed at start", c.base.Host)
		}
		return errdefs.Unavailablef("cannot verify the server %s against --ca-file %s: the server's certificate is not signed by that CA. "+
			"Pass --ca-file with the ca.pem of this server and check that its SHA-256 fingerprint is the one the server printed at start", c.base.Host, c.caFile)
	case errors.As(err, &hve):
		return errdefs.Unavailablef("the server's certificate does not cover the address %s (%w): use the address the certificate was issued for, or reissue it", c.base.Host, hve)
	case errors.As(err, &cie):
		return errdefs.Unavailablef("the server's certificate is not valid (%w): renew it", cie)
	}
	return errdefs.Unavailablef("cannot reach the server at %s: %w; is `dockyard server` running there?", c.base.String(), err)
}
