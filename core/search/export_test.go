package search

// FoldDefinition is Fold without its shortcuts, for tests that check them.
var FoldDefinition = foldSlow
