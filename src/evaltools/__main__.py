from evaltools.cli import main

raise SystemExit(main())
