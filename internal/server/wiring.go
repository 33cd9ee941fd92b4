package server

import (
	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/config"
)

// accessOptions derives the access service's options from the config.
func accessOptions(cfg config.Config) access.Options {
	return access.Options{
		SessionTTL:     cfg.Auth.SessionTTL,
		APITokenMaxTTL: cfg.Auth.APITokenMaxTTL,
		Password:       access.RecommendedParams,
		Throttle: access.ThrottleOptions{
			MaxFailures: cfg.Auth.LoginFailuresBeforeDelay,
			Window:      cfg.Auth.LoginWindow,
			BaseDelay:   cfg.Auth.LoginDelayBase,
			MaxDelay:    cfg.Auth.LoginDelayMax,
		},
	}
}
