"""Inspector's desktop station (PySide6). Talks to the core only through ``inspector.pipeline.Inspector``."""
