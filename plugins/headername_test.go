package plugins_test

import (
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

func TestSameHeaderName(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"X-Api-Key", "x-api-key", true},
		{"X_api_key", "X-Api-Key", true},
		{"x-API_KEY", "X_Api-Key", true},
		{"X-Api-Key", "X-Api-Keys", false},
		{"X-Api-Kez", "X-Api-Key", false},
		{"X.Api.Key", "X-Api-Key", false},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := plugins.SameHeaderName(tt.a, tt.b); got != tt.want {
			t.Errorf("SameHeaderName(%q, %q): got %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
