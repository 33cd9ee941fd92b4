package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/secrets"
	"github.com/dockyard/dockyard/internal/store"
)

// SettingKey is the settings-store key holding the observability settings.
const SettingKey = "observability"

// tokenPurpose binds the sealed token to its use (see secrets.Box.Seal).
const tokenPurpose = "observability:token"

// SettingsStore keeps small server-wide values (store.SettingsStore).
type SettingsStore interface {
	store.Transactor
	GetSetting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
}

// Sealer encrypts secrets at rest (secrets.Box).
type Sealer interface {
	Seal(plaintext, purpose string) (string, error)
	Open(sealed, purpose string) (string, error)
}

// Update changes some settings; nil fields keep their value. An empty
// Token removes the token.
type Update struct {
	Enabled     *bool
	Endpoint    *string
	Token       *string
	TokenHeader *string
	ServiceName *string
}

// View is what may be shown of the settings: never the token, only its
// last four characters.
type View struct {
	Enabled     bool
	Endpoint    string
	TokenHeader string
	ServiceName string
	TokenSet    bool
	TokenLast4  string
	Updated     time.Time
	UpdatedBy   string
	Source      string // "settings" once an admin saved them, else "config"
}

// stored is the persisted form; the token only ever sealed.
type stored struct {
	Enabled     bool      `json:"enabled"`
	Endpoint    string    `json:"endpoint"`
	TokenSealed string    `json:"token_sealed,omitempty"`
	TokenHeader string    `json:"token_header,omitempty"`
	ServiceName string    `json:"service_name"`
	Updated     time.Time `json:"updated"`
	UpdatedBy   string    `json:"updated_by"`
}

// Observability keeps the trace-export settings in the settings store,
// with the token sealed, and applies every change to a Tracing at once.
// Until an admin saves settings, the configuration's (Base) apply.
type Observability struct {
	store   SettingsStore
	box     Sealer
	tracing *Tracing

	mu      sync.Mutex
	base    Settings
	current Settings
	saved   *stored
}

// NewObservability returns the settings service; base comes from the
// server configuration (telemetry.otlp_endpoint, telemetry.service_name).
func NewObservability(st SettingsStore, box Sealer, tr *Tracing, base Settings) *Observability {
	return &Observability{store: st, box: box, tracing: tr, base: base, current: base}
}

// Start loads the saved settings (else the base ones) and applies them. A
// saved token that no longer opens (the key changed) is an error that
// says what to do.
func (o *Observability) Start(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.base
	raw, err := o.store.GetSetting(ctx, SettingKey)
	switch {
	case errdefs.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("observability settings: %w", err)
	default:
		var st stored
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return fmt.Errorf("observability settings are corrupt (%v): set them again with `dockyard observability set`: %w", err, errdefs.ErrInvalid)
		}
		if s, err = o.open(st); err != nil {
			return err
		}
		o.saved = &st
	}
	if err := o.tracing.Configure(ctx, s); err != nil {
		return fmt.Errorf("observability settings: %w", err)
	}
	o.current = s
	return nil
}

func (o *Observability) open(st stored) (Settings, error) {
	s := Settings{Enabled: st.Enabled, Endpoint: st.Endpoint, TokenHeader: st.TokenHeader, ServiceName: st.ServiceName}
	if st.TokenSealed != "" {
		tok, err := o.box.Open(st.TokenSealed, tokenPurpose)
		if err != nil {
			return Settings{}, fmt.Errorf("observability token: %w; if the secret key changed, set the token again with `dockyard observability set --token-stdin`", err)
		}
		s.Token = tok
	}
	return s, nil
}

// Settings returns the settings in force, the token included, for the
// server to hand to the agents it starts (never to an API answer).
func (o *Observability) Settings() Settings {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.current
}

// Get returns what may be shown of the settings in force.
func (o *Observability) Get(ctx context.Context) (View, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.view(), nil
}

func (o *Observability) view() View { return viewOf(o.current, o.saved) }

// viewOf shows settings s, saved as saved (nil: from the configuration).
func viewOf(s Settings, saved *stored) View {
	v := View{Enabled: s.Enabled, Endpoint: s.Endpoint, TokenHeader: s.TokenHeader, ServiceName: s.serviceName(),
		TokenSet: s.Token != "", TokenLast4: secrets.Last4(s.Token), Source: "config"}
	if saved != nil {
		v.Source, v.Updated, v.UpdatedBy = "settings", saved.Updated, saved.UpdatedBy
	}
	if v.TokenHeader == "" && v.TokenSet {
		v.TokenHeader = DefaultTokenHeader
	}
	return v
}

// Put applies u on top of the settings in force, checks the result, saves
// it (token sealed) and reconfigures tracing. Nothing changes on error.
func (o *Observability) Put(ctx context.Context, by string, u Update) (View, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.current
	if u.Enabled != nil {
		s.Enabled = *u.Enabled
	}
	if u.Endpoint != nil {
		s.Endpoint = strings.TrimSpace(*u.Endpoint)
	}
	if u.Token != nil {
		s.Token = strings.TrimSpace(*u.Token)
	}
	if u.TokenHeader != nil {
		s.TokenHeader = strings.TrimSpace(*u.TokenHeader)
	}
	if u.ServiceName != nil {
		s.ServiceName = strings.TrimSpace(*u.ServiceName)
	}
	if s.ServiceName == "" {
		s.ServiceName = o.base.serviceName()
	}
	p, err := o.tracing.build(ctx, s)
	if err != nil {
		return View{}, err
	}
	st := stored{Enabled: s.Enabled, Endpoint: s.Endpoint, TokenHeader: s.TokenHeader, ServiceName: s.ServiceName,
		Updated: time.Now().UTC(), UpdatedBy: by}
	if s.Token != "" {
		if st.TokenSealed, err = o.box.Seal(s.Token, tokenPurpose); err != nil {
			shutdown(p)
			return View{}, fmt.Errorf("sealing the observability token: %w", err)
		}
	}
	b, err := json.Marshal(st)
	if err == nil {
		err = o.store.PutSetting(ctx, SettingKey, string(b))
	}
	if err != nil {
		shutdown(p)
		return View{}, fmt.Errorf("saving observability settings: %w", err)
	}
	apply := func() {
		o.tracing.swap(p, s)
		o.current, o.saved = s, &st
	}
	if store.TxFrom(ctx) == nil {
		apply()
		return o.view(), nil
	}
	// Within a transaction (the change with its audit event), the new
	// settings take effect once it commits; a rollback leaves the old ones.
	applied := false
	store.AfterCommit(ctx, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		apply()
		applied = true
	})
	store.AfterTx(ctx, func(context.Context) {
		if !applied {
			shutdown(p)
		}
	})
	return viewOf(s, &st), nil
}

// InTx runs fn in one transaction of the settings store: Put with the
// audit event of the change commits together.
func (o *Observability) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return o.store.InTx(ctx, fn)
}
