from sewerline.cli import main

main()
