"""One module per family of functions: element-wise, softmax, prelu, gated,
bias; driver.py holds the forward/backward drivers the first three share."""
