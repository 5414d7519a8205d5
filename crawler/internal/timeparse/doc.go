// Package timeparse is the one parser of the times that pages, feeds and
// listings print. It imports only the standard library.
package timeparse
