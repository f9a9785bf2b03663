"""Fixture generators of the detector: torchvision 0.29 ops and Mask R-CNN pieces."""
