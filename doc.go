// Package newsmd holds what the whole project shares at its root: the
// documented default configuration, embedded so the binary runs without
// a config file and its defaults can never drift from config.yaml.
//
// It imports nothing of newsmd; internal/config reads it.
package newsmd
