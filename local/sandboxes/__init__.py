"""Small provider sandboxes for `make run` and the tests: each speaks its provider's wire format."""
