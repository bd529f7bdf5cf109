package accesslog

import (
	"strings"
	"testing"

	"github.com/portcullis-gw/portcullis/plugins"
)

// TestDynamicMetadata prints what plugins noted, as Envoy prints dynamic
// metadata: the value under namespace:key, "-" when nothing was noted.
func TestDynamicMetadata(t *testing.T) {
	f, err := Compile(`%DYNAMIC_METADATA(envoy.common:access_log_hint)% %DYNAMIC_METADATA(envoy.filters.http.rbac:istio_dry_run_deny_shadow_engine_result)% %DYNAMIC_METADATA(istio.mixer:status)%`)
	if err != nil {
		t.Fatal(err)
	}
	r := &Record{Notes: []plugins.Note{
		{Namespace: "envoy.common", Key: "access_log_hint", Value: "true"},
		{Namespace: "envoy.filters.http.rbac", Key: "istio_dry_run_deny_shadow_engine_result", Value: "denied"},
	}}
	if got, want := string(f.Append(nil, r)), "true denied -"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := string(f.Append(nil, &Record{})), "- - -"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	j := string(AppendJSON(nil, r))
	if want := `"dynamic_metadata":{"envoy.common:access_log_hint":"true","envoy.filters.http.rbac:istio_dry_run_deny_shadow_engine_result":"denied"}`; !strings.Contains(j, want) {
		t.Errorf("got %s, want it to hold %s", j, want)
	}
	if j := string(AppendJSON(nil, &Record{})); strings.Contains(j, "dynamic_metadata") {
		t.Errorf("got %s, want no dynamic_metadata without notes", j)
	}
}
