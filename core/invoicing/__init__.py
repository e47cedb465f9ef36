"""The invoice as a document: business details and their validation, the EN 16931 (Factur-X) XML, the
EPC payment QR code, the PDF/A-3 rendering and the stored documents of issued invoices and credit notes.

Import the modules themselves (`core.invoicing.documents`, `core.invoicing.identifiers`…): this package
re-exports nothing, so `core.services` can use the validators without importing the renderer.
"""
