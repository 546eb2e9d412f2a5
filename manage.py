#!/usr/bin/env python
"""Django's command-line utility for Concord."""

import os
import sys
from pathlib import Path


def main() -> None:
    # platform/ is a source root (see pyproject.toml); make it importable when the
    # project is run from a checkout without being installed.
    source_root = str(Path(__file__).resolve().parent / "platform")
    if source_root not in sys.path:
        sys.path.insert(1, source_root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concord.settings.development")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
