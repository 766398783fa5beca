package sandbox

// The bounds of a search, for the tests that probe them.
const (
	MaxQueryBytes = maxQueryBytes
	MaxQueryDepth = maxQueryDepth
)
