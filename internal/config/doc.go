// Package config is newsmd's configuration: every section type of
// config.yaml in one place, how a file and the NEWSMD_* environment are
// read over the embedded defaults, and the checks that need no compiling.
// Site rules, feeds and output options are compiled (and their patterns
// checked) once, by their own packages, when cmd/newsmd wires a command.
//
// It imports the standard library, yaml and the module root (for the
// embedded config.yaml); every other package of newsmd may import it.
package config
