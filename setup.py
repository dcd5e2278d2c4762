"""Build the Cython extensions in ``_ext/`` as ``zarrfast._ext.<module>``.

Every extension links ``libblosc2.a`` from the blosc2 wheel statically: it carries
blosc2 itself and the zstd, lz4 and zlib-ng codecs that the kernels call without the GIL.
"""
import glob
import os

import blosc2
import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

BLOSC2_DIR = os.path.dirname(blosc2.__file__)
BLOSC2_INCLUDE = os.path.join(BLOSC2_DIR, "include")
BLOSC2_STATIC = os.path.join(BLOSC2_DIR, "lib", "libblosc2.a")

# ZARRFAST_DEBUG=1 builds bounds-checked kernels under AddressSanitizer (tools/debug_test.sh; never in place:
# cythonize writes the .c files next to the .pyx).  _ext.bytecodecs.build_info() reports it.
DEBUG = os.environ.get("ZARRFAST_DEBUG") == "1"

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": DEBUG,
    "embedsignature": True,
}

compile_args = ["-O3", "-fno-strict-aliasing"] if not DEBUG else ["-O0", "-g", "-fsanitize=address"]
link_args = [] if not DEBUG else ["-fsanitize=address"]
debug_macros = [("ZARRFAST_DEBUG_BUILD", "1")] if DEBUG else []


def ext(name: str) -> Extension:
    return Extension(
        f"zarrfast._ext.{name}",
        [f"_ext/{name}.pyx"],
        include_dirs=[BLOSC2_INCLUDE, numpy.get_include(), "_ext"],
        extra_objects=[BLOSC2_STATIC],
        libraries=["pthread", "m", "dl"],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")] + debug_macros,
    )


modules = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob("_ext/*.pyx"))

setup(
    ext_modules=cythonize([ext(m) for m in modules], compiler_directives=directives, include_path=["_ext"], quiet=True),
    package_dir={"zarrfast._ext": "_ext"},
    packages=find_packages(include=["zarrfast", "zarrfast.*"]) + ["zarrfast._ext"],
    package_data={"zarrfast._ext": ["*.pyi", "py.typed"]},
)
