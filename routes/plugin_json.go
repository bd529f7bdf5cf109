package routes

import (
	"encoding/json"

	"github.com/portcullis-gw/portcullis/plugins"
)

// MarshalJSON writes the plugin as the routes file does, a one-key object
// from its name to its configuration, {"rate_limit": {"per_second": 50}},
// with the configuration as plugins.Display shows it: keyed as the routes
// file writes it, durations as "5s", and every field the plugin marks
// secret hidden. JSON is how a configuration is shown (the admin API's
// /config), never how it is stored, so no JSON rendering of a routes file
// carries a plugin's secrets.
func (pc PluginConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{pc.Name: plugins.Display(pc.Config)})
}

// MarshalJSON writes each section as plugins.Display shows it, for the same
// reasons as PluginConfig's.
func (s Sections) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(s))
	for name, v := range s {
		out[name] = plugins.Display(v)
	}
	return json.Marshal(out)
}
