from offramp.cli import main

main()
