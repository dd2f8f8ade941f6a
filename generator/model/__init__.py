"""The typed spec model (stage 3 input): immutable dataclasses built from a schema-valid document."""

from generator.model.build import SYNTHESIZED_NAMES, build_spec
from generator.model.spec import *  # noqa: F401,F403

__all__ = ["SYNTHESIZED_NAMES", "build_spec"]
