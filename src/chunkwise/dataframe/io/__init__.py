"""Reading and writing dataframes: pandas/array bridges here, file formats beside them."""
