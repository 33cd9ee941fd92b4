// Package index keeps event indexes (main, _internal and any an admin
// creates): events with _time, host, source, sourcetype, index, _raw and
// extracted fields, term and phrase search through a full-text index on the
// store, and the HTTP Event Collector that ingests them.
package index

import "github.com/dockyard/dockyard/internal/events"

// Event is one stored event (events.Event, shared with the search language).
type Event = events.Event

// Query selects events (events.Query, which the search language builds).
type Query = events.Query
