package config

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// EnvPrefix starts the name of every configuration environment variable.
const EnvPrefix = "DOCKYARD_"

// leaf is one settable key of Config, found by walking its yaml tags.
type leaf struct {
	key   string
	index []int
	doc   string
}

var (
	leavesOnce sync.Once
	leaves     []leaf
	byKey      map[string]leaf
	sections   map[string]bool
)

func loadLeaves() {
	leavesOnce.Do(func() {
		byKey = map[string]leaf{}
		sections = map[string]bool{}
		walk(reflect.TypeFor[Config](), "", nil)
	})
}

func walk(t reflect.Type, prefix string, index []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct {
			sections[key] = true
			walk(f.Type, key, idx)
			continue
		}
		l := leaf{key: key, index: idx, doc: f.Tag.Get("doc")}
		leaves = append(leaves, l)
		byKey[key] = l
	}
}

// Keys lists every configuration key in dotted form ("auth.session_ttl"),
// in the order of the Config struct.
func Keys() []string {
	loadLeaves()
	out := make([]string, len(leaves))
	for i, l := range leaves {
		out[i] = l.key
	}
	return out
}

// EnvVar returns the environment variable that sets key:
// "auth.session_ttl" → "DOCKYARD_AUTH_SESSION_TTL".
func EnvVar(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// KeyInfo describes one configuration key.
type KeyInfo struct {
	Key     string // dotted yaml key, also the flag key
	Env     string // environment variable
	Type    string // string, integer or duration
	Default string // the value in Default()
	Doc     string // one line
}

// Describe lists every key with its environment variable, type, default and
// description.
func Describe() []KeyInfo {
	loadLeaves()
	def := Default()
	out := make([]KeyInfo, len(leaves))
	for i, l := range leaves {
		v, _ := def.Get(l.key)
		out[i] = KeyInfo{Key: l.key, Env: EnvVar(l.key), Type: typeName(fieldOf(&def, l).Type()), Default: v, Doc: l.doc}
	}
	return out
}

var durationType = reflect.TypeFor[time.Duration]()

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Bool:
		return "bool"
	default:
		return "integer"
	}
}

func fieldOf(c *Config, l leaf) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(l.index)
}

// Get returns the value of key as text (durations as "12h", "5m").
func (c Config) Get(key string) (string, bool) {
	loadLeaves()
	l, ok := byKey[key]
	if !ok {
		return "", false
	}
	v := fieldOf(&c, l)
	switch {
	case v.Type() == durationType:
		return FormatDuration(time.Duration(v.Int())), true
	case v.Kind() == reflect.String:
		return v.String(), true
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	default:
		return strconv.FormatInt(v.Int(), 10), true
	}
}

// Set parses value for key and stores it. Errors are of kind
// errdefs.ErrInvalid and name the key.
func (c *Config) Set(key, value string) error {
	return c.set(key, value, "")
}

// set is Set with a description of where the value came from, for errors.
func (c *Config) set(key, value, source string) error {
	loadLeaves()
	l, ok := byKey[key]
	if !ok {
		return errdefs.Invalidf("unknown config key %q%s; known keys: %s", key, source, strings.Join(Keys(), ", "))
	}
	v := fieldOf(c, l)
	bad := func(want string) error {
		return errdefs.Invalidf("config key %q%s: %q is not %s", key, source, value, want)
	}
	value = strings.TrimSpace(value)
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(value)
		if err != nil {
			return bad("a duration; use a number with a unit, such as 90s, 10m or 12h")
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(value)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return bad("true or false")
		}
		v.SetBool(b)
	default:
		n, err := strconv.ParseInt(strings.ReplaceAll(value, "_", ""), 10, 64)
		if err != nil || v.OverflowInt(n) {
			return bad("a whole number")
		}
		v.SetInt(n)
	}
	return nil
}

// FormatDuration prints d without trailing zero units: 12h, 5m, 1h30m, 90s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
