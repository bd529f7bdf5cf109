package plugins

// SameHeaderName reports whether a and b name the same header to a backend
// that reads '_' as '-': equal but for ASCII case and '_' written for '-'.
// nginx (underscores_in_headers on), CGI, WSGI, Rack and PHP all read
// X_Api_Key as X-Api-Key (HTTP_X_API_KEY), so a plugin that removes or sets
// a header must treat every such spelling as that header. It allocates
// nothing.
func SameHeaderName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if foldName(a[i]) != foldName(b[i]) {
			return false
		}
	}
	return true
}

func foldName(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	if c == '_' {
		return '-'
	}
	return c
}
