"""The Wavefront REST categories, one module each (alert.py, dashboard.py, ...), each
declared once by the `CATEGORY` at its end; the shared CRUD routes (crud.py) and wire
models (*_views.py) they are built from. chalicelib/api finds the categories here."""
