"""Keel: a declarative backend spec in, a runnable FastAPI + SQLAlchemy backend out."""

__version__ = "0.1.0"
