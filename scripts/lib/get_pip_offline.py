"""Stand-in for the get-pip.py bootstrap script ansible-test downloads from a host this machine cannot reach.

ansible-test runs it as `python get_pip.py [pip install arguments]` inside a fresh venv: install pip from
the standard library's ensurepip, then let pip install what was asked (from PyPI, which is reachable).
"""
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                      stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
