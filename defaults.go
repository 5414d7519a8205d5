package newsmd

import _ "embed"

// DefaultConfigYAML is the top-level config.yaml.
//
//go:embed config.yaml
var DefaultConfigYAML []byte
