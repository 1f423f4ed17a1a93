from vmsg.cli.app import main

main()
