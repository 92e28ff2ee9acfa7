"""What a new user installs must work: the wheel and the sdist, built as a release would be.

One `python -m build --no-isolation` per session (the module-scoped fixture) builds the sdist
from a clean copy of this tree and then the wheel from that sdist, offline, with the setuptools installed
here (the test extras bring `build` and setuptools>=77). The checks:

- the wheel carries every module of symgrad/, every example spec, py.typed, the LICENSE and
  the `symgrad` entry point, and nothing else (no tests, docs or benchmarks);
- its metadata has the one version (symgrad.__version__), the SPDX license expression, the
  classifiers and the project URLs, and the build warns of nothing deprecated;
- the sdist carries everything the test suite reads (every file under tests/, docs/ and
  benchmarks/ on disk, README.md and .ci/run) besides LICENSE, pyproject.toml and
  MANIFEST.in, so `pip install 'symgrad-X.tar.gz[test]'` and pytest in the unpacked folder
  run the whole suite;
- the installed symgrad, its metadata and `symgrad --version` agree on the version.
"""

import ast
import configparser
import email.parser
import importlib.metadata
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import symgrad

from paths import ROOT

CACHES = {"__pycache__", ".pytest_cache", ".hypothesis", "node_modules"}  # node_modules: npm install's (.ci/run)


def _source_version():
    """The literal of `__version__ = "..."` in symgrad/core/version.py: the one place it is written."""
    tree = ast.parse((ROOT / "symgrad" / "core" / "version.py").read_text(encoding="utf-8"))
    values = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
              and any(isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets)]
    assert len(values) == 1 and isinstance(values[0], str), "symgrad/core/version.py must set __version__ once, literally"
    return values[0]


VERSION = _source_version()


def _files_on_disk(folder):
    """Every file under ROOT/folder, relative to ROOT, leaving out caches and byte code."""
    return {path.relative_to(ROOT).as_posix() for path in (ROOT / folder).rglob("*")
            if path.is_file() and not CACHES.intersection(path.relative_to(ROOT).parts)
            and path.suffix not in {".pyc", ".pyo"}}


def _copy_of_the_tree(target):
    """ROOT copied to target as a fresh clone would have it: without .git, caches, virtual
    environments or build artefacts. Above all without symgrad.egg-info: setuptools adds
    every file of a stale egg-info/SOURCES.txt to the sdist, which would hide a line missing
    from MANIFEST.in; and the build writes nothing into the tree others work in."""
    def ignore(folder, names):
        skipped = {name for name in names if name in CACHES or name.endswith((".pyc", ".pyo", ".egg-info"))}
        if Path(folder) == ROOT:
            skipped |= {name for name in names if name in {"build", "dist"} or name.startswith(".") and name != ".ci"
                        or (ROOT / name / "pyvenv.cfg").exists()}
        return skipped
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)
    return target


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    source = _copy_of_the_tree(tmp_path_factory.mktemp("source") / "symgrad")
    out = tmp_path_factory.mktemp("dist")
    # No --sdist/--wheel: build makes the sdist, then the wheel from the unpacked sdist, so the
    # wheel also proves the sdist builds.
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
                            capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"python -m build failed (pip install -e '.[test]' brings build and setuptools):\n{log}"
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0], "log": log}


@pytest.fixture(scope="module")
def wheel_names(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        return set(wheel.namelist())


@pytest.fixture(scope="module")
def wheel_metadata(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        text = wheel.read(f"symgrad-{VERSION}.dist-info/METADATA").decode("utf-8")
    return email.parser.Parser().parsestr(text)


@pytest.fixture(scope="module")
def sdist_names(dists):
    top = f"symgrad-{VERSION}/"
    with tarfile.open(dists["sdist"]) as sdist:
        names = [member.name for member in sdist.getmembers() if member.isfile()]
    assert all(name.startswith(top) for name in names), [name for name in names if not name.startswith(top)]
    return {name[len(top):] for name in names}


def test_file_names_carry_the_version(dists):
    assert dists["wheel"].name == f"symgrad-{VERSION}-py3-none-any.whl"
    assert dists["sdist"].name == f"symgrad-{VERSION}.tar.gz"


def test_build_warns_of_nothing_deprecated(dists):
    warnings = [line for line in dists["log"].splitlines() if re.search(r"deprecat|superseded", line, re.I)]
    assert not warnings, "\n".join(warnings)


def test_wheel_has_every_module_the_examples_and_py_typed(wheel_names):
    modules = {name for name in _files_on_disk("symgrad") if name.endswith(".py")}
    assert modules, "no modules found under symgrad/"
    assert modules <= wheel_names, sorted(modules - wheel_names)
    examples = {name for name in _files_on_disk("symgrad/examples") if name.endswith(".toml")}
    assert len(examples) >= 10 and examples <= wheel_names, sorted(examples - wheel_names)
    assert "symgrad/py.typed" in wheel_names


def test_wheel_has_the_serve_page_and_katex(wheel_names):
    """`symgrad serve` works offline from a plain install: the page and KaTeX (its fonts, its licence) ship."""
    static = _files_on_disk("symgrad/serve/static")
    assert {"symgrad/serve/static/index.html", "symgrad/serve/static/app.js", "symgrad/serve/static/style.css",
            "symgrad/serve/static/katex/katex.min.js", "symgrad/serve/static/katex/katex.min.css",
            "symgrad/serve/static/katex/LICENSE", "symgrad/serve/static/katex/fonts/KaTeX_Main-Regular.woff2"} <= static
    assert static <= wheel_names, sorted(static - wheel_names)


def test_wheel_has_the_license_and_nothing_but_the_package(wheel_names):
    info = f"symgrad-{VERSION}.dist-info/"
    licenses = [name for name in wheel_names if name.startswith(info) and name.rsplit("/", 1)[-1] == "LICENSE"]
    assert licenses == [f"{info}licenses/LICENSE"], licenses
    strays = sorted(name for name in wheel_names if not name.startswith(("symgrad/", info)))
    assert not strays, f"the wheel carries more than the package: {strays}"
    assert not [name for name in wheel_names if CACHES.intersection(name.split("/")) or name.endswith(".pyc")]


def test_wheel_license_text_is_mit(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        text = wheel.read(f"symgrad-{VERSION}.dist-info/licenses/LICENSE").decode("utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the symgrad developers" in text
    assert text == (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_wheel_has_the_entry_point(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        text = wheel.read(f"symgrad-{VERSION}.dist-info/entry_points.txt").decode("utf-8")
    entry_points = configparser.ConfigParser()
    entry_points.read_string(text)
    assert dict(entry_points["console_scripts"]) == {"symgrad": "symgrad.cli.process:run"}


def test_wheel_metadata(wheel_metadata):
    meta = wheel_metadata
    assert meta["Name"] == "symgrad" and meta["Version"] == VERSION
    assert meta["License-Expression"] == "MIT" and meta.get_all("License-File") == ["LICENSE"]
    assert meta["License"] is None  # the old free-text field is gone with the SPDX expression
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["Author"] == "the symgrad developers" and "sympy" in meta["Keywords"]
    classifiers = set(meta.get_all("Classifier"))
    assert {"Programming Language :: Python :: 3 :: Only", "Programming Language :: Python :: 3.11",
            "Operating System :: OS Independent", "Intended Audience :: Education",
            "Intended Audience :: Science/Research", "Topic :: Scientific/Engineering :: Mathematics",
            "Typing :: Typed"} <= classifiers
    # PEP 639: the license is said by License-Expression; setuptools refuses a License :: classifier beside it.
    assert not [c for c in classifiers if c.startswith("License ::")]
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert urls == {"Homepage": "https://github.com/symgrad/symgrad",
                    "Source": "https://github.com/symgrad/symgrad",
                    "Issues": "https://github.com/symgrad/symgrad/issues",
                    "Documentation": "https://github.com/symgrad/symgrad/tree/main/docs"}
    requires = meta.get_all("Requires-Dist")
    assert 'torch==2.13.0; extra == "test"' in requires and 'build>=1.0; extra == "test"' in requires


def test_sdist_has_everything_the_tests_read(sdist_names):
    expected = set()
    for folder in ("tests", "docs", "benchmarks", "symgrad"):
        expected |= _files_on_disk(folder)
    expected |= {"LICENSE", "README.md", "pyproject.toml", "MANIFEST.in", ".ci/run"}
    for needed in ("tests/conftest.py", "tests/support/random_nets.py", "tests/support/answer_key.py",
                   "tests/support/gallery.py", "tests/support/twins.py", "tests/package/test_packaging.py", "docs/gallery/build.py", "benchmarks/run.py",
                   "symgrad/py.typed"):
        assert needed in expected, f"{needed} is not on disk"
    assert any(name.startswith("tests/support/bad_specs/") for name in expected)
    missing = sorted(expected - sdist_names)
    assert not missing, f"the sdist lacks (add them to MANIFEST.in): {missing}"
    # Nothing else but setuptools' own metadata: no caches, byte code or build artefacts.
    generated = {"PKG-INFO", "setup.cfg"}
    strays = sorted(name for name in sdist_names - expected
                    if name not in generated and not name.startswith("symgrad.egg-info/"))
    assert not strays, f"the sdist carries files that are not the project's: {strays}"


def test_sdist_metadata(dists):
    with tarfile.open(dists["sdist"]) as sdist:
        text = sdist.extractfile(f"symgrad-{VERSION}/PKG-INFO").read().decode("utf-8")
    meta = email.parser.Parser().parsestr(text)
    assert meta["Version"] == VERSION and meta["License-Expression"] == "MIT"


def test_version_is_written_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "symgrad.core.version.__version__"}


def test_installed_version_agrees_with_the_package_and_the_command():
    assert symgrad.__version__ == VERSION == importlib.metadata.version("symgrad")
    module = subprocess.run([sys.executable, "-m", "symgrad", "--version"], capture_output=True, text=True,
                            timeout=120)
    assert module.returncode == 0 and module.stdout.strip() == f"symgrad {VERSION}", module
    script = Path(sysconfig.get_path("scripts")) / "symgrad"
    assert script.exists(), f"the entry point {script} is not installed"
    command = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=120)
    assert command.returncode == 0 and command.stdout.strip() == f"symgrad {VERSION}", command
