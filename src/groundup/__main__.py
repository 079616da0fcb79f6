import sys

from groundup.app.cli import main

sys.exit(main())
