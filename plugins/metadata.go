package plugins

// Metadata is what plugins record of a request for the access log, by
// namespace and key, as Envoy's filters write dynamic metadata: the text
// log prints a value with %DYNAMIC_METADATA(namespace:key)%, and the JSON
// log carries them all under dynamic_metadata. A plugin names its
// namespace after itself (portcullis.waf); values are text.
//
// The zero Metadata is empty and ready to use. Like the Request that holds
// it, it is reused for later requests: a plugin must not keep the slice
// Entries returns.
type Metadata struct {
	entries []MetadataEntry
}

// MetadataEntry is one value of Metadata.
type MetadataEntry struct {
	Namespace, Key, Value string
}

// Set records value under namespace and key, replacing what was there. An
// empty namespace or key records nothing.
func (m *Metadata) Set(namespace, key, value string) {
	if namespace == "" || key == "" {
		return
	}
	for i := range m.entries {
		if e := &m.entries[i]; e.Namespace == namespace && e.Key == key {
			e.Value = value
			return
		}
	}
	m.entries = append(m.entries, MetadataEntry{namespace, key, value})
}

// Get returns the value under namespace and key, and whether there is one.
func (m *Metadata) Get(namespace, key string) (string, bool) {
	for _, e := range m.entries {
		if e.Namespace == namespace && e.Key == key {
			return e.Value, true
		}
	}
	return "", false
}

// Entries returns the values in the order they were first set.
func (m *Metadata) Entries() []MetadataEntry { return m.entries }

// Reset empties m and keeps its storage for the next request.
func (m *Metadata) Reset() {
	clear(m.entries)
	m.entries = m.entries[:0]
}
