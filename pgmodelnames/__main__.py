from pgmodelnames.cli import main

raise SystemExit(main())
