package plugins

// FilePath is a file named in a plugin's configuration or section, such as
// the WAF's rule files. The routes file resolves a relative path against its
// own directory as it decodes it, so that the plugin reads the same file
// whatever the gateway's working directory, and watches the file: a change
// to it reloads the routes file, as a change to a certificate it names does.
type FilePath string
