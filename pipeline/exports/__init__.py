"""Exports of a finished output folder: a Hugging Face dataset folder, MosaicML MDS."""
