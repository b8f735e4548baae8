#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Zip setup.sh and run_autograder (the files, not their folder) and upload the zip.
set -euo pipefail

apt-get update
apt-get install -y python3 python3-pip python3-venv
python3 -m venv /opt/gradcheck
# The gradcheck release the course was tested with (a version, a wheel URL or a git URL; a
# wheel put in the zip is at /autograder/source/).
/opt/gradcheck/bin/python -m pip install gradcheck-cli==0.1.0
