"""COCO fixture generators and test-data tools (pycocotools, torchmetrics)."""
