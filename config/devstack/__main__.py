import sys

from config.devstack.stack import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
