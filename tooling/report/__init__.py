"""`kb report`: knowledge health, open flags, credit, missing knowledge, in
text, Markdown, JSON and as staff-site pages."""
