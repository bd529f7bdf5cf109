package xfcc

import (
	"reflect"
	"strings"
	"testing"
)

func TestAppend(t *testing.T) {
	for _, tc := range []struct {
		name    string
		e       Element
		want    string
		skipped int
	}{
		{"envoy's example", Element{
			{"By", "spiffe://cluster.local/ns/edge/sa/gw"},
			{"Hash", "468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688"},
			{"Subject", "CN=Test Client,OU=Lyft"},
			{"URI", "spiffe://cluster.local/ns/demo/sa/client"},
		}, `By=spiffe://cluster.local/ns/edge/sa/gw;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="CN=Test Client,OU=Lyft";URI=spiffe://cluster.local/ns/demo/sa/client`, 0},
		{"subject always quoted", Element{{"Subject", "CN=a"}}, `Subject="CN=a"`, 0},
		{"quote escaped", Element{{"Subject", `CN=a\"b`}}, `Subject="CN=a\\\"b"`, 0},
		{"comma and semicolon quoted", Element{{"DNS", "a,b;c"}}, `DNS="a,b;c"`, 0},
		{"equals quoted", Element{{"DNS", "a=b"}}, `DNS="a=b"`, 0},
		{"empty value quoted", Element{{"DNS", ""}}, `DNS=""`, 0},
		{"newline left out", Element{{"DNS", "a\r\nX-Evil: 1"}, {"URI", "spiffe://td/x"}}, `URI=spiffe://td/x`, 1},
		{"bad key left out", Element{{"U RI", "x"}, {"By=x;URI", "y"}, {"DNS", "d"}}, `DNS=d`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, skipped := Append(nil, tc.e)
			if string(got) != tc.want || skipped != tc.skipped {
				t.Errorf("got %s (%d left out), want %s (%d)", got, skipped, tc.want, tc.skipped)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []Element
	}{
		{"one element", `By=spiffe://a/b;URI=spiffe://c/d`, []Element{{{"By", "spiffe://a/b"}, {"URI", "spiffe://c/d"}}}},
		{"two elements joined with a space", `URI=spiffe://a/b, URI=spiffe://c/d`, []Element{{{"URI", "spiffe://a/b"}}, {{"URI", "spiffe://c/d"}}}},
		{"quoted comma stays in", `Subject="CN=a,OU=b";URI=x`, []Element{{{"Subject", "CN=a,OU=b"}, {"URI", "x"}}}},
		{"escaped quote", `Subject="a\"b,URI=spiffe://forged/x"`, []Element{{{"Subject", `a"b,URI=spiffe://forged/x`}}}},
		{"empty quoted", `DNS=""`, []Element{{{"DNS", ""}}}},
		// Envoy strips the whitespace around a value before it looks for
		// quotes (StripAsciiWhitespace in its XFCC_VALUE formatter).
		{"spaces around a bare value", "By= x ;URI=\ty", []Element{{{"By", "x"}, {"URI", "y"}}}},
		{"spaces before a quoted value", `Subject= "CN=a,OU=b" ;URI=x`, []Element{{{"Subject", "CN=a,OU=b"}, {"URI", "x"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestParseRefuses lists values that must not parse, above all those that
// would swallow an element appended after them.
func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		``,
		`URI`,
		`URI=`,
		`=x`,
		`URI=a;`,
		`URI=a,`,
		`,URI=a`,
		`Subject="CN=open`,
		`Subject="CN=a\`,
		`Subject="a"b`,
		`URI=a"b"`,
		`URI=a=b`,
		`URI=a\b`,
		"URI=a\nURI=b",
		"Subject=\"a\r\nb\"",
		"URI=a\x00",
		`U RI=a`,
		`URI=a;;DNS=b`,
		`URI= `,
		`URI= ;DNS=b`,
		`Subject= "a" b`,
	} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, got)
		}
	}
}

// TestAppendAfterForged checks that an element appended to any value that
// parses is read back whole, as the last element.
func TestAppendAfterForged(t *testing.T) {
	own := Element{{"By", "spiffe://td/gw"}, {"URI", "spiffe://td/ns/a/sa/b"}}
	for _, prior := range []string{
		`URI=spiffe://td/ns/x/sa/y`,
		`Subject="CN=\",URI=spiffe://evil/x";URI=spiffe://td/p`,
		`DNS="a;b,c=d"`,
	} {
		b, _ := Append([]byte(prior+","), own)
		got, err := Parse(string(b))
		if err != nil || !reflect.DeepEqual(got[len(got)-1], own) {
			t.Errorf("after %q: got %v, %v; want the last element %v", prior, got, err, own)
		}
	}
}

// FuzzXFCC checks that whatever parses is written back to the same
// elements, and that any value written is read back unchanged.
func FuzzXFCC(f *testing.F) {
	f.Add(`By=spiffe://a/b;Hash=00;Subject="CN=x,O=\"y\"";URI=spiffe://c/d, DNS=e`, "Subject", `a"\,;=`)
	f.Add(`URI="a\\b"`, "DNS", "x y")
	f.Fuzz(func(t *testing.T, header, key, value string) {
		if els, err := Parse(header); err == nil {
			var b []byte
			for i, e := range els {
				if i > 0 {
					b = append(b, ',')
				}
				var skipped int
				if b, skipped = Append(b, e); skipped != 0 {
					t.Fatalf("%q: a parsed pair was left out", header)
				}
			}
			again, err := Parse(string(b))
			if err != nil || !reflect.DeepEqual(again, els) {
				t.Fatalf("%q written as %q reads %v, %v; want %v", header, b, again, err, els)
			}
		}
		b, skipped := Append(nil, Element{{key, value}, {"URI", "spiffe://td/x"}})
		if strings.ContainsAny(string(b), "\r\n\x00") {
			t.Fatalf("wrote a control character: %q", b)
		}
		got, err := Parse(string(b))
		if err != nil {
			t.Fatalf("%q does not parse: %v", b, err)
		}
		if skipped == 0 && !reflect.DeepEqual(got, []Element{{{key, value}, {"URI", "spiffe://td/x"}}}) {
			t.Fatalf("%q reads %v", b, got)
		}
	})
}
