package accesslog

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, format string
		want         string // substring of the error
	}{
		{"unknown operator", "ok %NOPE% x", "offset 3: unknown operator %NOPE%"},
		{"lower case name", "%protocol%", "offset 0: '%' starts no operator"},
		{"lone percent", "100% sure", "offset 3: '%' starts no operator"},
		{"trailing percent", "abc%", "offset 3: '%' starts no operator"},
		{"unterminated name", "x %PROTOCOL", "offset 2: operator %PROTOCOL: unterminated"},
		{"unterminated after arg", "%REQ(A)", "offset 0: operator %REQ: unterminated"},
		{"unterminated paren", "%REQ(USER-AGENT%", "offset 0: operator %REQ: unterminated '('"},
		{"space after name", "%PROTOCOL %", "unterminated, want '%' at offset 9"},
		{"length not a number", "%REQ(A):x%", "truncation length must be a positive integer"},
		{"length zero", "%REQ(A):0%", "truncation length must be a positive integer"},
		{"length negative", "%REQ(A):-1%", "truncation length must be a positive integer"},
		{"length overflow", "%REQ(A):99999999999999999999999%", "truncation length must be a positive integer"},
		{"length unterminated", "%REQ(A):12", "truncation length must be a positive integer"},
		{"length on number", "%BYTES_SENT:3%", "operator %BYTES_SENT% takes no truncation length"},
		{"length on time", "%START_TIME:3%", "takes no truncation length"},
		{"argument not taken", "%PROTOCOL(x)%", "operator %PROTOCOL% takes no argument"},
		{"argument missing", "%REQ%", "operator %REQ% needs an argument"},
		{"metadata argument missing", "%DYNAMIC_METADATA%", "needs an argument"},
		{"two alternatives", "%REQ(A?B?C)%", "at most one alternative"},
		{"empty header", "%REQ()%", `invalid header name ""`},
		{"empty alternative", "%REQ(A?)%", `invalid header name ""`},
		{"bad header byte", "%REQ(A B)%", `invalid header name "A B"`},
		{"newline in header", "%REQ(A\nB)%", "invalid header name"},
		{"lone colon", "%REQ(:)%", `invalid header name ":"`},
		{"bad time specifier", "%START_TIME(%Y %Q)%", "unsupported time specifier %Q at offset 3"},
		{"time lone percent", "%START_TIME(%Y%)%", "time layout ends in a lone '%'"},
		{"newline in time layout", "%START_TIME(%Y\n)%", `control character '\n' in time layout at offset 2`},
		{"second operator bad", "%PROTOCOL% %BAD%", "offset 11: unknown operator %BAD%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(tt.format)
			if err == nil {
				t.Fatalf("got format %q, want error containing %q", f.String(), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestStartTimeLayouts(t *testing.T) {
	start := time.Date(2024, 5, 4, 3, 2, 1, 7_008_009, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		layout, want string
	}{
		{"", "2024-05-04T01:02:01.007Z"},
		{"%Y/%m/%d %H:%M:%S", "2024/05/04 01:02:01"},
		{"%F %T%z", "2024-05-04 01:02:01+0000"},
		{"%s", "1714784521"},
		{"%s.%3f", "1714784521.007"},
		{"%6f", "007008"},
		{"%9f|%f", "007008009|007008009"},
		{"%1f", "0"},
		{"100%% at %H", "100% at 01"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.layout, func(t *testing.T) {
			got, err := format("%START_TIME("+tt.layout+")%", &Record{Start: start})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			got, _ = format("%START_TIME("+tt.layout+")%", &Record{})
			if got != "-" {
				t.Errorf("zero start: got %q, want %q", got, "-")
			}
		})
	}
}

// TestEscaping checks that a client cannot forge a line or a field through
// a value: nothing it sends can end the line, close the quotes or, outside a
// quoted field, add a field; printable ASCII is copied as Envoy copies it.
func TestEscaping(t *testing.T) {
	tests := []struct {
		name, format, value, want string
	}{
		{"newline", `"%REQ(USER-AGENT)%"`, "a\nb", `"a\nb"`},
		{"forged line", `"%REQ(USER-AGENT)%"`, "x\" 200\n[2024-01-01T00:00:00.000Z] \"GET /admin",
			`"x\x22 200\n[2024-01-01T00:00:00.000Z] \x22GET /admin"`},
		{"carriage return and tab", `"%REQ(USER-AGENT)%"`, "a\r\tb", `"a\r\tb"`},
		{"escape and nul", `"%REQ(USER-AGENT)%"`, "\x1b[31m\x00", `"\x1b[31m\x00"`},
		{"delete", `"%REQ(USER-AGENT)%"`, "a\x7fb", `"a\x7fb"`},
		{"quote and backslash", `"%REQ(USER-AGENT)%"`, `a"b\n`, `"a\x22b\x5cn"`},
		{"escape sequences cannot be forged", `"%REQ(USER-AGENT)%"`, `\x22`, `"\x5cx22"`},
		{"space kept in a quoted field", `"%REQ(USER-AGENT)%"`, "Mozilla/5.0 (X11)", `"Mozilla/5.0 (X11)"`},
		{"utf-8 escaped", `"%REQ(USER-AGENT)%"`, "h\u00e9\u202e", `"h\xc3\xa9\xe2\x80\xae"`},
		{"invalid utf-8 escaped", `"%REQ(USER-AGENT)%"`, "a\xffb", `"a\xffb"`},
		{"truncated before escaping", `"%REQ(USER-AGENT):3%"`, "ab\ncd", `"ab\n"`},
		{"space escaped in a bare field", `%REQ(USER-AGENT)% x`, "a b", `a\x20b x`},
		{"space escaped in the request line", `"%REQ(:METHOD)% %REQ(USER-AGENT)% %PROTOCOL%"`, "/a b", `"- /a\x20b -"`},
		{"quote after only", `%REQ(USER-AGENT)%"`, "a b", `a\x20b"`},
		{"quote before only", `"%REQ(USER-AGENT)%`, "a b", `"a\x20b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Record{RequestHeader: http.Header{"User-Agent": {tt.value}}}
			got, err := format(tt.format, r)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddressParts(t *testing.T) {
	tests := []struct {
		addr, host, port string
	}{
		{"10.0.0.1:80", "10.0.0.1", "80"},
		{"[2001:db8::1]:443", "2001:db8::1", "443"},
		{"[2001:db8::1]", "2001:db8::1", ""},
		{"2001:db8::1", "2001:db8::1", ""},
		{"10.0.0.1", "10.0.0.1", ""},
		{"/run/gw.sock", "/run/gw.sock", ""},
		{"[broken", "[broken", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := hostOf(tt.addr); got != tt.host {
				t.Errorf("host: got %q, want %q", got, tt.host)
			}
			if got := portOf(tt.addr); got != tt.port {
				t.Errorf("port: got %q, want %q", got, tt.port)
			}
		})
	}
}

func TestFormatString(t *testing.T) {
	const text = "%PROTOCOL% 100%%\n"
	f, err := Compile(text)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != text {
		t.Errorf("got %q, want %q", got, text)
	}
}
