"""docs/gallery/build.py loaded as a module: the seed examples it lists and the pages it writes."""

import importlib.util

from paths import ROOT

PATH = ROOT / "docs" / "gallery" / "build.py"
_spec = importlib.util.spec_from_file_location("gallery_build", PATH)
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)
