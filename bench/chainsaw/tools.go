// Package chainsaw pins the chainsaw the side-by-side benchmark
// (../chainsaw_test.go) builds and runs as a tool: kdrill does not depend
// on it. Its own module, so chainsaw's dependencies stay out of kdrill's.
package chainsaw
