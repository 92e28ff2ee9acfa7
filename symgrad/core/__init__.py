"""The bottom layer: errors, numbers, names, tensors, limits; imports nothing above it."""
