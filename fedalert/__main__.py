from fedalert.cli import main

main()
