"""The bottom layer: the product's vocabulary and its one domain error.

Pure Python, no Django models, no scipy. Every other package may import from here; this
package imports from none of them (tests/test_architecture.py checks it).
"""
