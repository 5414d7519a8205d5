package main

import (
	"fmt"
	"io"
)

// readAllLimited reads r, refusing more than max bytes.
func readAllLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("input is larger than fetch.max_body_bytes (%d)", max)
	}
	return b, nil
}
