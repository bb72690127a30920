from gristmill.cli import entry

entry()
