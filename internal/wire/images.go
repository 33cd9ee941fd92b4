package wire

// Image is a catalogue entry of `dockyard images list`.
type Image struct {
	Name       string `json:"name"`
	Runtime    string `json:"runtime"`
	Digest     string `json:"digest,omitempty"`
	Default    bool   `json:"default"`
	Containers int    `json:"containers"`
}
