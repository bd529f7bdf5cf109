package routes

import (
	"fmt"
	"strings"
)

// Error is one problem in a routes file, at a position.
type Error struct {
	File      string
	Line, Col int
	// Msg names the object and field and says what is wrong:
	// `route "api": upstream "shop" is not defined`.
	Msg string
}

// Error formats the problem as file:line:col: msg.
func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors is every problem found in one routes file, in file order.
type Errors []*Error

// Error lists the problems, one a line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// fieldError is a problem with one field of the object being checked; the
// caller knows the object and turns it into an Error at the field's position.
type fieldError struct {
	field string // yaml key, dotted for nested keys
	msg   string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }
