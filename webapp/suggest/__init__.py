"""Barrier suggestion: free text in, the likeliest barriers out."""
