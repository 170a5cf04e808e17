"""The sites: render the model into pages, the browser search index, assets,
templates, theme overrides and the thin MkDocs adapter."""
