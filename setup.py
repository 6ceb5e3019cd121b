"""`pip install .`: builds the native module with the project's own CMake build
(only the `_tcsim` target and what it links) and installs the `tcsim` package.
The Debian packages scripts/setup.sh installs must be present; TCSIM_BUILD_DIR
reuses a build directory and TCSIM_BUILD_TYPE (default Release) keeps its type."""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = os.path.abspath(os.environ.get("TCSIM_BUILD_DIR", os.path.join(self.build_temp, "cmake")))
        build_type = os.environ.get("TCSIM_BUILD_TYPE", "Release")
        subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja", f"-DCMAKE_BUILD_TYPE={build_type}",
                               "-DTCSIM_PYTHON=ON", f"-DPython_EXECUTABLE={sys.executable}"])
        subprocess.check_call(["cmake", "--build", build, "--target", "_tcsim"])
        built = glob.glob(os.path.join(build, "python", "tcsim", "_tcsim*.so"))
        if not built:
            raise RuntimeError(f"tcsim: the build left no _tcsim module in {build}/python/tcsim")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(built[0], target)


setup(packages=["tcsim"], package_dir={"": "python"}, ext_modules=[Extension("tcsim._tcsim", sources=[])],
      cmdclass={"build_ext": CMakeBuild})
