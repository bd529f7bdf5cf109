package h1guard

import "testing"

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{0, "none"},
		{BareLF, "bare_lf"},
		{ContentLengthAndTransferEncoding, "content_length_and_transfer_encoding"},
		{TrailerTooLarge, "trailer_too_large"},
		{Host, "host"},
		{Host + 1, "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.kind.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
