package wire

// GCResult answers POST /v1/admin/gc: what a garbage collection of the
// blob store found and did. Durations are Go duration strings.
type GCResult struct {
	Blobs        int    `json:"blobs"`
	Bytes        int64  `json:"bytes"`
	Live         int    `json:"live"`
	LiveBytes    int64  `json:"live_bytes"`
	Recent       int    `json:"recent"`
	RecentBytes  int64  `json:"recent_bytes"`
	Deleted      int    `json:"deleted"`
	DeletedBytes int64  `json:"deleted_bytes"`
	MissingRefs  int    `json:"missing_refs"`
	Grace        string `json:"grace"`
	Took         string `json:"took"`
}
