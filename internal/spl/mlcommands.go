package spl

import "strings"

// ModelRef names a model: [app:]NAME[@REF]. App is true for the app:
// prefix (the model is shared in the current app rather than private); Ref
// is a version number or alias, empty for the current version.
type ModelRef struct {
	Pos  Pos
	App  bool
	Name string
	Ref  string
}

func (m ModelRef) String() string {
	s := m.Name
	if m.App {
		s = "app:" + s
	}
	if m.Ref != "" {
		s += "@" + m.Ref
	}
	return s
}

// Fit trains a model in a container:
//
//	fit ALGORITHM [algo=NAME] [container=NAME] [k=v ...] [[TARGET...] from] FEATURES... [into [app:]MODEL] [as PREFIX]
//
// Options may stand anywhere among the fields. algo= is required for
// MLTKContainer, whose notebook it names.
type Fit struct {
	Pos       Pos
	Algorithm string   // the word after fit, e.g. MLTKContainer
	Algo      string   // algo=: the notebook to run
	Container string   // container=: the container to run in, if given
	Params    []Option // every other key=value, in order
	Targets   []string // the fields before "from"; none without one
	From      bool     // "from" was written (possibly with no target before it)
	Features  []string // field names; * wildcards allowed
	Into      ModelRef // Name is empty when there is no "into": keep nothing
	As        string   // as PREFIX: the name of the prediction field(s)
}

// HasInto reports whether the fit names a model to save into.
func (c *Fit) HasInto() bool { return c.Into.Name != "" }

// Target returns the single target field, or "" when there is none.
func (c *Fit) Target() string {
	if len(c.Targets) == 0 {
		return ""
	}
	return c.Targets[0]
}

// Apply runs a model on the rows: apply [app:]MODEL[@REF] [container=NAME] [k=v ...] [as NAME].
type Apply struct {
	Pos       Pos
	Model     ModelRef
	Container string // container=: the container to run in, if given
	Params    []Option
	As        string
}

// Summary shows a model's summary: summary [app:]MODEL[@REF] [container=NAME].
type Summary struct {
	Pos       Pos
	Model     ModelRef
	Container string // container=: the container that gives the notebook's summary, if given
}

// Listmodels lists the models the caller may read.
type Listmodels struct {
	Pos Pos
}

// Deletemodel deletes a model: deletemodel [app:]MODEL.
type Deletemodel struct {
	Pos   Pos
	Model ModelRef
}

func (c *Fit) Name() string         { return "fit" }
func (c *Apply) Name() string       { return "apply" }
func (c *Summary) Name() string     { return "summary" }
func (c *Listmodels) Name() string  { return "listmodels" }
func (c *Deletemodel) Name() string { return "deletemodel" }

func (c *Fit) Position() Pos         { return c.Pos }
func (c *Apply) Position() Pos       { return c.Pos }
func (c *Summary) Position() Pos     { return c.Pos }
func (c *Listmodels) Position() Pos  { return c.Pos }
func (c *Deletemodel) Position() Pos { return c.Pos }

// Param returns the value of option key, if present.
func (c *Fit) Param(key string) (string, bool) {
	for _, o := range c.Params {
		if o.Key == key {
			return o.Value, true
		}
	}
	return "", false
}

func (c *Fit) String() string {
	parts := []string{"fit", word(c.Algorithm)}
	if c.Algo != "" || strings.EqualFold(c.Algorithm, "MLTKContainer") {
		parts = append(parts, "algo="+word(c.Algo))
	}
	if c.Container != "" {
		parts = append(parts, "container="+word(c.Container))
	}
	for _, o := range c.Params {
		parts = append(parts, o.String())
	}
	if len(c.Targets) > 0 {
		parts = append(parts, words(c.Targets, " "))
	}
	if c.From {
		parts = append(parts, "from")
	}
	parts = append(parts, words(c.Features, " "))
	if c.HasInto() {
		parts = append(parts, "into", c.Into.String())
	}
	if c.As != "" {
		parts = append(parts, "as", word(c.As))
	}
	return strings.Join(parts, " ")
}

func (c *Apply) String() string {
	s := "apply " + c.Model.String()
	if c.Container != "" {
		s += " container=" + word(c.Container)
	}
	for _, o := range c.Params {
		s += " " + o.String()
	}
	if c.As != "" {
		s += " as " + word(c.As)
	}
	return s
}

func (c *Summary) String() string {
	if c.Container != "" {
		return "summary " + c.Model.String() + " container=" + word(c.Container)
	}
	return "summary " + c.Model.String()
}
func (c *Listmodels) String() string  { return "listmodels" }
func (c *Deletemodel) String() string { return "deletemodel " + c.Model.String() }
