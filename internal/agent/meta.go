package agent

import (
	"encoding/json"
	"fmt"

	"github.com/dockyard/dockyard/internal/errdefs"
)

// request is the parts of the seed's meta ("param") the agent uses.
type request struct {
	Algo      string // options.params.algo: the notebook's name
	ModelName string // options.model_name
	Mode      string // options.params.mode: "stage" only stores data and meta
	Meta      json.RawMessage
	// NotebookSHA256 (hex), when set, names the pinned notebook version
	// the job runs instead of notebooks/<Algo>.ipynb|.py (see pinned.go).
	NotebookSHA256 string
}

// SaveName is the name save() and load() get: <algo>_<model_name>.
func (r request) SaveName() string { return r.Algo + "_" + r.ModelName }

func parseMeta(raw json.RawMessage, needModel bool) (request, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return request{}, errdefs.Invalid("request has no meta: send {\"data\": \"<CSV>\", \"meta\": {\"options\": {\"params\": {\"algo\": \"NOTEBOOK\"}, \"model_name\": \"MODEL\"}}}")
	}
	var m struct {
		Options struct {
			Params    map[string]any `json:"params"`
			ModelName any            `json:"model_name"`
		} `json:"options"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return request{}, errdefs.Invalidf("meta is not a JSON object of the seed's shape: %w", err)
	}
	str := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	r := request{Algo: str(m.Options.Params["algo"]), ModelName: str(m.Options.ModelName), Mode: str(m.Options.Params["mode"]), Meta: raw}
	if err := validName("meta.options.params.algo (the notebook)", r.Algo); err != nil {
		return request{}, err
	}
	if needModel || r.ModelName != "" {
		if err := validName("meta.options.model_name", r.ModelName); err != nil {
			return request{}, err
		}
	}
	return r, nil
}

// validName accepts 1 to 200 letters, digits, '_', '-' and '.' not starting
// with '.'.
func validName(what, s string) error {
	if s == "" {
		return errdefs.Invalid(what + " is missing")
	}
	if len(s) > 200 || s[0] == '.' {
		return errdefs.Invalidf("%s %q is not a valid name: use up to 200 letters, digits, '_', '-' and '.', not starting with '.'", what, s)
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return errdefs.Invalidf("%s %q: use letters, digits, '_', '-' and '.' only", what, s)
		}
	}
	return nil
}
