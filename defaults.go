// Package newsmd holds what the whole project shares at its root: the
// documented default configuration, embedded so the binary runs without
// a config file and its defaults can never drift from config.yaml.
package newsmd

import _ "embed"

// DefaultConfigYAML is the top-level config.yaml.
//
//go:embed config.yaml
var DefaultConfigYAML []byte
