# lit configuration of the nnc tests. The build's lit.site.cfg.py sets the
# paths and then loads this file.
import os
import sys

import lit.formats

config.name = "nnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".nn", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = getattr(config, "nnc_test_obj_dir", config.test_source_root)

# FileCheck, not, count first on PATH, then the tools under test.
path = [config.llvm_tools_dir, config.nnc_bin_dir, config.environment.get("PATH", "")]
config.environment["PATH"] = os.pathsep.join(p for p in path if p)
for var in ("HOME", "TMPDIR", "TMP", "TEMP"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
# The tests must not depend on a stdlib from the environment.
config.environment.pop("NNC_STDLIB", None)
# nnc's compile cache goes to the build tree, not to the user's home.
config.environment["NNC_CACHE_DIR"] = os.path.join(os.path.dirname(config.nnc_bin_dir), "nnc-cache")
config.environment.pop("NNC_CACHE", None)

def tool(name):
    return os.path.join(config.nnc_bin_dir, name)

config.substitutions.append(("%nnc-opt", tool("nnc-opt")))
config.substitutions.append(("%nnc", tool("nnc")))
config.substitutions.append(("%examples", os.path.join(config.nnc_source_dir, "examples")))
# The Python that runs lit, for small helper scripts under Inputs/.
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("%cc", config.c_compiler))
config.substitutions.append(("%cxx", config.cxx_compiler))
