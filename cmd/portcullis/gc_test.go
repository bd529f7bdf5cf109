package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestDecideGC checks the garbage collector's settings for each
// environment and cgroup the gateway may run in, hostile files included.
func TestDecideGC(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name       string
		env        map[string]string
		files      map[string]string
		setPercent bool
		limit      int64
		source     string
	}{
		{"nothing set, no cgroup", nil, nil, true, 0, ""},
		{"GOGC set", map[string]string{"GOGC": "100"}, nil, false, 0, ""},
		{"GOGC off", map[string]string{"GOGC": "off"}, nil, false, 0, ""},
		{"cgroup v2 in a container", nil, map[string]string{"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/memory.max": "1073741824\n"},
			true, gib * 9 / 10, "/sys/fs/cgroup/memory.max"},
		{"GOMEMLIMIT wins over the cgroup", map[string]string{"GOMEMLIMIT": "512MiB"}, map[string]string{"sys/fs/cgroup/memory.max": "1073741824"},
			true, 0, "GOMEMLIMIT"},
		{"cgroup v2 without a limit", nil, map[string]string{"sys/fs/cgroup/memory.max": "max\n"}, true, 0, ""},
		{"cgroup v2, the process's own cgroup", nil, map[string]string{"proc/self/cgroup": "0::/kubepods/pod1/c1\n", "sys/fs/cgroup/kubepods/pod1/c1/memory.max": "2147483648"},
			true, 2 * gib * 9 / 10, "/sys/fs/cgroup/kubepods/pod1/c1/memory.max"},
		{"a cgroup path that climbs out", nil, map[string]string{"proc/self/cgroup": "0::/../../etc\n", "etc/memory.max": "1024"}, true, 0, ""},
		{"cgroup v1 with a limit", nil, map[string]string{"sys/fs/cgroup/memory/memory.limit_in_bytes": "536870912\n"}, true, gib / 2 * 9 / 10, "/sys/fs/cgroup/memory/memory.limit_in_bytes"},
		{"cgroup v1 without a limit", nil, map[string]string{"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"}, true, 0, ""},
		{"cgroup v2, the namespace root without a limit, the process's own with one", nil, map[string]string{"proc/self/cgroup": "0::/app\n", "sys/fs/cgroup/memory.max": "max", "sys/fs/cgroup/app/memory.max": "1073741824"},
			true, gib * 9 / 10, "/sys/fs/cgroup/app/memory.max"},
		{"cgroup v2, the limit on a parent slice", nil, map[string]string{"proc/self/cgroup": "0::/system.slice/portcullis.service\n", "sys/fs/cgroup/system.slice/portcullis.service/memory.max": "max", "sys/fs/cgroup/system.slice/memory.max": "2147483648"},
			true, 2 * gib * 9 / 10, "/sys/fs/cgroup/system.slice/memory.max"},
		{"cgroup v2, the smallest of the limits", nil, map[string]string{"proc/self/cgroup": "0::/a/b\n", "sys/fs/cgroup/memory.max": "4294967296", "sys/fs/cgroup/a/memory.max": "1073741824", "sys/fs/cgroup/a/b/memory.max": "2147483648"},
			true, gib * 9 / 10, "/sys/fs/cgroup/a/memory.max"},
		{"a limit that is no number", nil, map[string]string{"sys/fs/cgroup/memory.max": "lots"}, true, 0, ""},
		{"a negative limit", nil, map[string]string{"sys/fs/cgroup/memory.max": "-5"}, true, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range tc.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			getenv := func(k string) string { return tc.env[k] }
			s := decideGC(getenv, os.ReadFile, root)
			if s.SetPercent != tc.setPercent || s.MemoryLimit != tc.limit || s.Source != tc.source {
				t.Errorf("got %+v; want the percent set %v, limit %d from %q", s, tc.setPercent, tc.limit, tc.source)
			}
		})
	}
}

// TestStartLogsGC starts the gateway with GOGC unset and set, and reads
// the garbage collector's settings from its start-up log.
func TestStartLogsGC(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(cfgPath, []byte(`
admin: { address: "off" }
access_log: { path: off }
listeners: [ { name: web, address: "127.0.0.1:0" } ]
virtual_hosts:
  - { name: all, hosts: ["*"], routes: [ { name: ok, direct_response: { status: 200 } } ] }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ gogc, memlimit, percent, limit string }{
		{"", "", "400", "<nil>"},
		{"150", "", "150", "<nil>"},
		{"", "1GiB", "400", "1.073741824e+09"},
	} {
		t.Run(fmt.Sprintf("GOGC=%s GOMEMLIMIT=%s", tc.gogc, tc.memlimit), func(t *testing.T) {
			c := startChildEnv(t, []string{"GOGC=" + tc.gogc, "GOMEMLIMIT=" + tc.memlimit}, "--config", cfgPath)
			got := c.waitLog(t, "garbage collector")
			if p, l := fmt.Sprint(got["gc_percent"]), fmt.Sprint(got["memory_limit_bytes"]); p != tc.percent || (l != tc.limit && tc.limit != "<nil>") {
				t.Errorf("got gc_percent %s and memory_limit_bytes %s, want %s and %s", p, l, tc.percent, tc.limit)
			}
		})
	}
}
