"""A corpus of realistic work orders by industry, each with a golden parse written by hand."""
