"""hfspace: validate, run, deploy and check Hugging Face Docker Spaces."""

__version__ = "0.1.0"
