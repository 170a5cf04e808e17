"""The knowledge base as data: the typed model, the YAML reader, the schema,
loading (YAML -> model), cross-entry checks and the audience view."""
