package routes

import (
	"encoding/json"
	"math"
	"net/netip"
	"testing"
	"time"
)

func TestSize(t *testing.T) {
	tests := []struct {
		in      string
		want    Size
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "512", want: 512},
		{in: "512B", want: 512},
		{in: "64KiB", want: 64 << 10},
		{in: "1MiB", want: 1 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "64KB", want: 64_000},
		{in: "2MB", want: 2_000_000},
		{in: "3GB", want: 3_000_000_000},
		{in: "9223372036854775807", want: math.MaxInt64},
		{in: "8589934591GiB", want: 8589934591 << 30},
		// Hostile and mistaken forms.
		{in: "", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "+1", wantErr: true},
		{in: "1.5MiB", wantErr: true},
		{in: "64 KiB", wantErr: true},
		{in: " 64KiB", wantErr: true},
		{in: "KiB", wantErr: true},
		{in: "64kib", wantErr: true},
		{in: "64KiBB", wantErr: true},
		{in: "64TiB", wantErr: true},
		{in: "0x10", wantErr: true},
		{in: "1_000", wantErr: true},
		{in: "١٢", wantErr: true},
		{in: "9223372036854775808", wantErr: true},
		{in: "8589934592GiB", wantErr: true},
		{in: "99999999999999999999999999KB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var s Size
			err := s.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if s != tt.want {
				t.Errorf("got %d, want %d", s, tt.want)
			}
		})
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		in   Size
		want string
	}{
		{0, "0"},
		{512, "512"},
		{1024, "1KiB"},
		{64 << 10, "64KiB"},
		{3 << 20, "3MiB"},
		{1 << 30, "1GiB"},
		{1536 << 20, "1536MiB"},
		{1000, "1KB"},
		{2_000_000, "2MB"},
		{5_000_000_000, "5GB"},
		{1500, "1500"},
		{math.MaxInt64, "9223372036854775807"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			var back Size
			if err := back.UnmarshalText([]byte(tt.in.String())); err != nil || back != tt.in {
				t.Errorf("got %d (%v) reading %q back, want %d", back, err, tt.want, tt.in)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    Duration
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "1.5s", want: Duration(1500 * time.Millisecond)},
		{in: "1h2m", want: Duration(time.Hour + 2*time.Minute)},
		{in: "-1s", wantErr: true},
		{in: "30", wantErr: true},
		{in: "5 seconds", wantErr: true},
		{in: "", wantErr: true},
		{in: "9999999999h", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Duration
			err := d.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if d != tt.want {
				t.Errorf("got %v, want %v", d, tt.want)
			}
		})
	}
}

func TestCIDR(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "192.168.1.7", want: "192.168.1.7/32"},
		{in: "2001:db8::1", want: "2001:db8::1/128"},
		{in: "2001:db8::1/32", want: "2001:db8::/32"},
		{in: "::ffff:10.0.0.1", want: "::ffff:10.0.0.1/128"},
		{in: "fe80::1%eth0", wantErr: true},
		{in: "fe80::1%eth0/64", wantErr: true},
		{in: "10.0.0.0/33", wantErr: true},
		{in: "10.0.0.0/-1", wantErr: true},
		{in: "10.0.0.256", wantErr: true},
		{in: "010.0.0.1", wantErr: true},
		{in: " 10.0.0.1", wantErr: true},
		{in: "", wantErr: true},
		{in: "example.com", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var c CIDR
			err := c.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && c.String() != tt.want {
				t.Errorf("got %s, want %s", c, tt.want)
			}
		})
	}
}

// TestMarshalJSON checks that /config shows the scalars as the routes file
// writes them, and that they read back.
func TestMarshalJSON(t *testing.T) {
	v := struct {
		D Duration
		S Size
		C CIDR
	}{Duration(90 * time.Second), 64 << 10, CIDR(netip.MustParsePrefix("10.0.0.0/8"))}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"D":"1m30s","S":"64KiB","C":"10.0.0.0/8"}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back struct {
		D Duration
		S Size
		C CIDR
	}
	if err := json.Unmarshal(b, &back); err != nil || back != v {
		t.Errorf("got %+v (%v) reading back, want %+v", back, err, v)
	}
}

// FuzzSize checks that no input panics and that every size read writes
// back to itself.
func FuzzSize(f *testing.F) {
	for _, s := range []string{"0", "512", "64KiB", "1MB", "9223372036854775807", "8589934592GiB", "-1", "1.5MiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s Size
		if s.UnmarshalText([]byte(in)) != nil {
			return
		}
		if s < 0 {
			t.Fatalf("got negative size %d from %q", s, in)
		}
		var back Size
		if err := back.UnmarshalText([]byte(s.String())); err != nil || back != s {
			t.Fatalf("got %d (%v) reading %q back, want %d", back, err, s.String(), s)
		}
	})
}
