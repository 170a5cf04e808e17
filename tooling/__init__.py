"""Zhiku (知库): a customer-service knowledge base kept as code.

The pipeline: load (YAML -> model) -> check (model -> problems) ->
render (model -> Markdown pages) -> index (model -> search) -> report.
"""

__version__ = "0.1.0"
