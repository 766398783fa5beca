package sandbox

// Catalogue is the sandbox's message catalogue, for tests that look for
// untranslated text.
var Catalogue = catalogue
