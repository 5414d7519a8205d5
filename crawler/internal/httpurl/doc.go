// Package httpurl holds the URL rules shared by the fetcher, the feeds and
// the site rules: what counts as a story or feed URL, and how a
// "host:port" is split. It imports only the standard library.
package httpurl
