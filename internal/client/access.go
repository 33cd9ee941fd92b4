package client

import (
	"context"
	"net/url"

	"github.com/dockyard/dockyard/internal/wire"
)

// Login exchanges a user name and password for a session token.
func (c *Client) Login(ctx context.Context, user, password string) (wire.LoginResponse, error) {
	var out wire.LoginResponse
	err := c.Do(ctx, "POST", "/v1/login", wire.LoginRequest{User: user, Password: password}, &out)
	return out, err
}

// Logout revokes the session token in use.
func (c *Client) Logout(ctx context.Context) error { return c.Do(ctx, "POST", "/v1/logout", nil, nil) }

// Whoami describes the caller.
func (c *Client) Whoami(ctx context.Context) (wire.Whoami, error) {
	var out wire.Whoami
	return out, c.Do(ctx, "GET", "/v1/whoami", nil, &out)
}

// Users lists accounts.
func (c *Client) Users(ctx context.Context) ([]wire.User, error) {
	var out []wire.User
	return out, c.Do(ctx, "GET", "/v1/users", nil, &out)
}

// AddUser creates an account.
func (c *Client) AddUser(ctx context.Context, req wire.UserRequest) (wire.User, error) {
	var out wire.User
	return out, c.Do(ctx, "POST", "/v1/users", req, &out)
}

// UpdateUser changes an account.
func (c *Client) UpdateUser(ctx context.Context, name string, req wire.UserRequest) (wire.User, error) {
	var out wire.User
	return out, c.Do(ctx, "PATCH", "/v1/users/"+url.PathEscape(name), req, &out)
}

// DeleteUser removes an account.
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/users/"+url.PathEscape(name), nil, nil)
}

// Roles lists roles.
func (c *Client) Roles(ctx context.Context) ([]wire.Role, error) {
	var out []wire.Role
	return out, c.Do(ctx, "GET", "/v1/roles", nil, &out)
}

// AddRole creates a role.
func (c *Client) AddRole(ctx context.Context, req wire.RoleRequest) (wire.Role, error) {
	var out wire.Role
	return out, c.Do(ctx, "POST", "/v1/roles", req, &out)
}

// UpdateRole replaces a role's capabilities, inherited roles and search
// indexes.
func (c *Client) UpdateRole(ctx context.Context, name string, req wire.RoleRequest) (wire.Role, error) {
	var out wire.Role
	return out, c.Do(ctx, "PATCH", "/v1/roles/"+url.PathEscape(name), req, &out)
}

// DeleteRole removes a role.
func (c *Client) DeleteRole(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", "/v1/roles/"+url.PathEscape(name), nil, nil)
}

// CreateToken creates an API token; the answer holds its secret, once.
func (c *Client) CreateToken(ctx context.Context, req wire.TokenRequest) (wire.NewToken, error) {
	var out wire.NewToken
	return out, c.Do(ctx, "POST", "/v1/tokens", req, &out)
}

// Tokens lists the caller's tokens, or everybody's with all.
func (c *Client) Tokens(ctx context.Context, all bool) ([]wire.Token, error) {
	var out []wire.Token
	path := "/v1/tokens"
	if all {
		path += "?all=true"
	}
	return out, c.Do(ctx, "GET", path, nil, &out)
}

// RevokeToken revokes a token by id.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/v1/tokens/"+url.PathEscape(id), nil, nil)
}
