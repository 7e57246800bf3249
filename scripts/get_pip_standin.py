"""Stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test downloads get-pip.py from a CI file host that this project's machines
cannot reach (only package registries are reachable). It then runs it as
``python get_pip.py [pip options] pip==X [--no-setuptools] [--no-wheel]`` inside a new,
empty virtual environment. This does the same job with the standard library's
ensurepip and an ordinary ``pip install`` from the package index.
"""

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
