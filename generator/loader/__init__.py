"""Loading a spec safely: bytes on disk to plain data, a source map and diagnostics.

``load_spec`` is the entry point for a spec directory or file; ``load_yaml_bytes``
loads one YAML document. Imports only PyYAML and the standard library.
"""

from generator.loader.sourcemap import NodeInfo, SourceMap
from generator.loader.spec_files import LoadedSpec, load_spec
from generator.loader.yaml_safe import load_yaml_bytes, load_yaml_file

__all__ = ["LoadedSpec", "NodeInfo", "SourceMap", "load_spec", "load_yaml_bytes", "load_yaml_file"]
