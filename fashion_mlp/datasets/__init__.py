"""Data sets in MNIST format: find the four IDX files, verify their checksums, parse them.

The public face of the package: `load_dataset`, `download_dataset`, the `Dataset` it returns and
the table of known data sets. The modules behind it each do one job: registry, dataset,
search, download, reading, checksums (the checksum cache), load.
"""

from fashion_mlp.datasets.dataset import Dataset, FileRecord, Provenance
from fashion_mlp.datasets.download import download_dataset
from fashion_mlp.datasets.load import load_dataset
from fashion_mlp.datasets.registry import (
    DATASETS,
    DIGIT_CLASSES,
    FASHION_CLASSES,
    IDX_FILES,
    DatasetSpec,
)
from fashion_mlp.datasets.search import DATA_ENV

__all__ = [
    "DATASETS",
    "DATA_ENV",
    "DIGIT_CLASSES",
    "FASHION_CLASSES",
    "IDX_FILES",
    "Dataset",
    "DatasetSpec",
    "FileRecord",
    "Provenance",
    "download_dataset",
    "load_dataset",
]
