// Copyright 2022 Juan Pablo Tosso and the OWASP Coraza contributors
// SPDX-License-Identifier: Apache-2.0

// Package strings holds the helpers of Coraza v3.8.1's internal/strings
// that its transformations use, copied with them (see ../NOTICE).
package strings

import "unsafe"

// ValidHex returns true if the byte is a valid hex character
func ValidHex(x byte) bool {
	return (x >= '0' && x <= '9') || (x >= 'a' && x <= 'f') || (x >= 'A' && x <= 'F')
}

// X2c converts a hex character to its ascii value
func X2c(what string) byte {
	var digit byte
	if what[0] >= 'A' {
		digit = ((what[0] & 0xdf) - 'A') + 10
	} else {
		digit = what[0] - '0'
	}
	digit *= 16
	if what[1] >= 'A' {
		digit += ((what[1] & 0xdf) - 'A') + 10
	} else {
		digit += what[1] - '0'
	}

	return digit
}

// WrapUnsafe wraps the provided buffer as a string. The buffer
// must not be mutated after calling this function.
func WrapUnsafe(buf []byte) string {
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}
