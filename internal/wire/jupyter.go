package wire

// JupyterPath is where the server serves the Jupyter of owner's
// development container name (docs/notebooks.md): /jupyter/OWNER/NAME/.
func JupyterPath(owner, name string) string { return "/jupyter/" + owner + "/" + name + "/" }

// JupyterOpen is what `dockyard containers open` prints with -o json.
type JupyterOpen struct {
	Name  string `json:"name"`
	Owner string `json:"owner"`
	URL   string `json:"url"`
	// Ready: Jupyter answered through the server before the URL was
	// printed.
	Ready bool `json:"ready"`
}
