package plugins_test

import (
	"slices"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

func TestMetadata(t *testing.T) {
	var m plugins.Metadata
	if _, ok := m.Get("portcullis.waf", "score"); ok || len(m.Entries()) != 0 {
		t.Fatal("the zero Metadata is not empty")
	}
	m.Set("portcullis.waf", "score", "5")
	m.Set("envoy.filters.http.rbac", "shadow_engine_result", "denied")
	m.Set("portcullis.waf", "score", "20")
	if v, ok := m.Get("portcullis.waf", "score"); !ok || v != "20" {
		t.Errorf("Get = %q, %v; want the value set last", v, ok)
	}
	if _, ok := m.Get("portcullis.waf", "shadow_engine_result"); ok {
		t.Error("a key of another namespace was found")
	}
	want := []plugins.MetadataEntry{{"portcullis.waf", "score", "20"}, {"envoy.filters.http.rbac", "shadow_engine_result", "denied"}}
	if got := m.Entries(); !slices.Equal(got, want) {
		t.Errorf("Entries = %v, want %v", got, want)
	}
}
