"""Dev tools: the bundle running on a laptop, with moto server standing in for AWS.

Not part of the product: nothing here is deployed, and the layer never imports it.
"""
