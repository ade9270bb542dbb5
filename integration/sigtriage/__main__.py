from sigtriage.cli import main

main()
