package routes

import "reflect"

// pluginFiles returns the files that plugins' sections and configurations
// name as plugins.FilePath, already resolved, so that the watcher reloads
// the routes file when one changes.
func (c *Config) pluginFiles() []string {
	var out []string
	for _, s := range c.File.Sections {
		out = appendFilePaths(out, reflect.ValueOf(s), 0)
	}
	for _, vh := range c.File.VirtualHosts {
		for _, p := range vh.Plugins {
			out = appendFilePaths(out, reflect.ValueOf(p.Config), 0)
		}
		for _, r := range vh.Routes {
			for _, p := range r.Plugins {
				out = appendFilePaths(out, reflect.ValueOf(p.Config), 0)
			}
		}
	}
	return out
}

// appendFilePaths appends the non-empty plugins.FilePath values beneath v.
// Decoded configurations are trees; depth bounds the walk all the same, as
// plugins.Display's does.
func appendFilePaths(out []string, v reflect.Value, depth int) []string {
	if depth > 64 || !v.IsValid() {
		return out
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			out = appendFilePaths(out, v.Elem(), depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out = appendFilePaths(out, v.Field(i), depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			out = appendFilePaths(out, v.Index(i), depth+1)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			out = appendFilePaths(out, it.Value(), depth+1)
		}
	case reflect.String:
		if v.Type() == filePathType && v.String() != "" {
			out = append(out, v.String())
		}
	}
	return out
}
