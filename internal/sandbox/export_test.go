package sandbox

import "gmailoauth/internal/sandbox/mailstore"

// Catalogue is the sandbox's message catalogue, for tests that look for
// untranslated text.
var Catalogue = catalogue

// The bounds of a search, for the tests that probe them.
const (
	MaxQueryBytes = mailstore.MaxQueryBytes
	MaxQueryDepth = mailstore.MaxQueryDepth
)
